//! Payments confirmed by the collecting bank (issue 14): a payer asks for a
//! payment order; only a collecting bank (or an operator) records that the
//! money arrived, idempotent by its transaction reference; the same bank may
//! reverse it. Each refusal below is a way a payer or a bank could misuse the
//! flow.
//!
//! The world: employer EMP-1 owes 360,000 fen for January 2026 (15,000 yuan
//! at 16% + 8%), due 15 February; a flexible worker owes 160,000 fen (20% of
//! 8,000 yuan). BOC and CCB collect; ICBC is a bank that does not.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use futures::StreamExt;
use platform::clock::{Clock, timestamp};
use socsec_proto::{
    common::v1::{Date, EventCursor, Money, PartnerKind, YearMonth},
    contribution::v1::{self as pb, InsuranceType, Scheme, contribution_event::Event},
    identity::v1 as identity,
};
use system_tests::{
    As, CallerChannel, System, as_caller, audit_trail, bad_fields, journeys, operator,
    pay_through_bank, reason,
};
use tonic::Code;

type Contribution = pb::contribution_service_client::ContributionServiceClient<CallerChannel>;

const REGION: &str = "110100";
const EMPLOYER: &str = "employer:EMP-1";
const BOC: &str = "bank:BOC";
const CCB: &str = "bank:CCB";

fn january() -> YearMonth {
    YearMonth {
        year: 2026,
        month: 1,
    }
}

fn on(month: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, month, day).unwrap()
}

/// 10:00 in China on `day`.
fn morning(day: NaiveDate) -> DateTime<Utc> {
    day.and_hms_opt(2, 0, 0).unwrap().and_utc()
}

struct World {
    system: System,
    contribution: Contribution,
    /// The flexible worker.
    person: identity::Person,
}

async fn run(contribution: &mut Contribution, request_id: &str) {
    let mut stream = contribution
        .run_month(operator(pb::RunMonthRequest {
            request_id: request_id.into(),
            period: Some(january()),
            region_code: REGION.into(),
            payer_code: String::new(),
        }))
        .await
        .unwrap()
        .into_inner();
    while let Some(progress) = stream.next().await {
        progress.unwrap();
    }
}

async fn world() -> World {
    let system_tests::World {
        system,
        mut identity,
        mut contribution,
        ..
    } = system_tests::World::with_partners(
        &[
            ("EMP-1", PartnerKind::Employer, ""),
            ("AGENCY-1", PartnerKind::HrAgency, ""),
            ("ICBC", PartnerKind::Bank, ""),
        ],
        &["BOC", "CCB"],
    )
    .await;
    contribution
        .set_rate_table(operator(pb::SetRateTableRequest {
            request_id: "rates".into(),
            table: Some(socsec_fixtures::rates::typical(
                REGION,
                InsuranceType::OldAge,
                2026,
            )),
        }))
        .await
        .unwrap();
    let employee = journeys::register(&mut identity, "钱职工").await;
    let person = journeys::register(&mut identity, "孙自由").await;
    for (request_id, who, scheme, employer, wage) in [
        ("e-1", &employee, Scheme::Employee, "EMP-1", 1_500_000),
        ("e-2", &person, Scheme::Flexible, "", 800_000),
    ] {
        contribution
            .enrol(operator(pb::EnrolRequest {
                request_id: request_id.into(),
                person_id: who.person_id.clone(),
                region_code: REGION.into(),
                insurance_types: vec![InsuranceType::OldAge as i32],
                scheme: scheme as i32,
                employer_code: employer.into(),
                agency_contract_id: String::new(),
                start: Some(january()),
            }))
            .await
            .unwrap();
        contribution
            .declare_wage(operator(pb::DeclareWageRequest {
                request_id: format!("w-{request_id}"),
                person_id: who.person_id.clone(),
                period: Some(pb::declare_wage_request::Period::Month(january())),
                monthly_wage: Some(Money { fen: wage }),
            }))
            .await
            .unwrap();
    }
    run(&mut contribution, "run-1").await;
    system.clock.set(morning(on(2, 10)));
    system.sign_in(&person).await;
    World {
        system,
        contribution,
        person,
    }
}

impl World {
    fn flexible(&self) -> String {
        format!("person:{}", self.person.person_id)
    }

    async fn order(
        &mut self,
        caller: &str,
        request_id: &str,
        amount: Option<i64>,
    ) -> pb::PaymentOrder {
        socsec_fixtures::payment::order(
            &mut self.contribution,
            &As(caller.into()),
            request_id,
            "",
            january(),
            amount,
        )
        .await
        .unwrap()
    }

    /// `bank` records `fen` against `order` under `reference`, paid at `paid_at`.
    async fn record(
        &mut self,
        bank: &str,
        order: &pb::PaymentOrder,
        reference: &str,
        fen: i64,
        paid_at: DateTime<Utc>,
    ) -> Result<pb::Payment, tonic::Status> {
        self.contribution
            .record_payment(as_caller(
                bank,
                pb::RecordPaymentRequest {
                    request_id: format!("rq-{reference}-{fen}-{}", order.order_id),
                    amount: Some(Money { fen }),
                    order_id: order.order_id.clone(),
                    bank_reference: reference.into(),
                    paid_at: Some(timestamp(paid_at)),
                    bank_code: String::new(),
                },
            ))
            .await
            .map(tonic::Response::into_inner)
    }

    async fn bill(&mut self, payer: &str, as_of: NaiveDate) -> pb::Bill {
        self.contribution
            .get_bill(operator(pb::GetBillRequest {
                payer: payer.into(),
                period: Some(january()),
                as_of: Some(Date {
                    year: 2026,
                    month: chrono::Datelike::month(&as_of) as i32,
                    day: chrono::Datelike::day(&as_of) as i32,
                }),
            }))
            .await
            .unwrap()
            .into_inner()
    }
}

fn fen(money: Option<Money>) -> i64 {
    money.unwrap().fen
}

#[tokio::test]
async fn a_payer_never_records_its_own_payment() {
    let mut w = world().await;
    let flexible = w.flexible();
    let mut orders = Vec::new();
    for (caller, request_id) in [(EMPLOYER, "o-emp"), (flexible.as_str(), "o-person")] {
        orders.push((caller.to_owned(), w.order(caller, request_id, None).await));
    }
    // The old self-certified path, with an order in hand: the employer, the
    // person, and an agency (which pays bills too) are all refused before
    // anything is looked at.
    let callers = [
        EMPLOYER.to_owned(),
        flexible.clone(),
        "hr_agency:AGENCY-1".into(),
    ];
    for caller in &callers {
        for (_, order) in &orders {
            let status = w
                .record(
                    caller,
                    order,
                    "SELF-1",
                    fen(order.amount),
                    morning(on(2, 10)),
                )
                .await
                .unwrap_err();
            assert_eq!(status.code(), Code::PermissionDenied, "{caller}");
            assert_eq!(reason(&status), "CALLER_KIND_NOT_ALLOWED", "{caller}");
        }
        let status = w
            .contribution
            .reverse_payment(as_caller(
                caller,
                pb::ReversePaymentRequest {
                    request_id: "rev".into(),
                    bank_code: "BOC".into(),
                    bank_reference: "SELF-1".into(),
                    reason: "mine".into(),
                },
            ))
            .await
            .unwrap_err();
        assert_eq!(status.code(), Code::PermissionDenied, "{caller}");
    }
    // The bills are still owed in full, with the late fee growing.
    for (payer, owed) in [(EMPLOYER.to_owned(), 360_000), (flexible, 160_000)] {
        let bill = w.bill(&payer, on(6, 1)).await;
        assert_eq!(fen(bill.paid), 0);
        assert!(fen(bill.outstanding) > owed, "{payer}");
    }
}

#[tokio::test]
async fn a_bank_that_does_not_collect_is_refused_and_an_operator_names_the_bank() {
    let mut w = world().await;
    let order = w.order(EMPLOYER, "o-1", None).await;
    assert_eq!(fen(order.amount), 360_000);
    let status = w
        .record("bank:ICBC", &order, "ICBC-1", 360_000, morning(on(2, 10)))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::PermissionDenied);
    assert_eq!(reason(&status), "NOT_COLLECTING_BANK");
    // A bank cannot record under another bank's name either.
    let status = w
        .contribution
        .record_payment(as_caller(
            "bank:ICBC",
            pb::RecordPaymentRequest {
                request_id: "icbc-as-boc".into(),
                amount: order.amount,
                order_id: order.order_id.clone(),
                bank_reference: "ICBC-2".into(),
                paid_at: order.created_at,
                bank_code: "BOC".into(),
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(reason(&status), "PAYMENT_OF_ANOTHER_BANK");
    assert_eq!(fen(w.bill(EMPLOYER, on(2, 10)).await.paid), 0);

    // An operator records for a collecting bank it names (and must name).
    let mut request = pb::RecordPaymentRequest {
        request_id: "op-1".into(),
        amount: order.amount,
        order_id: order.order_id.clone(),
        bank_reference: "BOC-COUNTER-1".into(),
        paid_at: order.created_at,
        bank_code: String::new(),
    };
    let status = w
        .contribution
        .record_payment(operator(request.clone()))
        .await
        .unwrap_err();
    assert_eq!(
        bad_fields(&status),
        [("bank_code".to_owned(), "FIELD_REQUIRED".to_owned())]
    );
    request.bank_code = "ICBC".into();
    let status = w
        .contribution
        .record_payment(operator(request.clone()))
        .await
        .unwrap_err();
    assert_eq!(reason(&status), "NOT_COLLECTING_BANK");
    request.bank_code = "BOC".into();
    request.request_id = "op-2".into();
    let paid = w
        .contribution
        .record_payment(operator(request))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(paid.bank_code, "BOC");
    assert_eq!(fen(paid.bill.unwrap().outstanding), 0);

    // The bureau withdraws CCB's designation: its next payment is refused
    // at once (not after a cache expires). An employer cannot be made one.
    let mut identity = w.system.identity_client().await;
    let designate = |code: &str, collects| identity::SetPartnerDesignationRequest {
        request_id: format!("designate-{code}"),
        code: code.into(),
        designation_in_force: true,
        reason: "collection agreement ended".into(),
        collects_contributions: Some(collects),
    };
    let ccb = identity
        .set_partner_designation(operator(designate("CCB", false)))
        .await
        .unwrap()
        .into_inner();
    assert!(!ccb.collects_contributions && ccb.designation_in_force);
    let flexible = w.flexible();
    let other = w.order(&flexible, "o-2", None).await;
    let status = w
        .record(CCB, &other, "CCB-1", fen(other.amount), morning(on(2, 10)))
        .await
        .unwrap_err();
    assert_eq!(reason(&status), "NOT_COLLECTING_BANK");
    let status = identity
        .set_partner_designation(operator(designate("EMP-1", true)))
        .await
        .unwrap_err();
    assert_eq!(
        bad_fields(&status),
        [(
            "collects_contributions".to_owned(),
            "COLLECTION_ONLY_FOR_BANKS".to_owned()
        )]
    );
}

#[tokio::test]
async fn a_reference_repeated_answers_the_first_payment_and_reused_with_other_content_is_refused() {
    let mut w = world().await;
    let order = w.order(EMPLOYER, "o-1", None).await;
    let at = morning(on(2, 10));
    let first = w.record(BOC, &order, "BOC-7", 360_000, at).await.unwrap();
    assert_eq!(fen(first.bill.as_ref().unwrap().outstanding), 0);
    // The same reference and content under a new request id (the bank lost
    // its request id): the first answer, and nothing recorded twice.
    let mut again = pb::RecordPaymentRequest {
        request_id: "another-request-id".into(),
        amount: order.amount,
        order_id: order.order_id.clone(),
        bank_reference: "BOC-7".into(),
        paid_at: Some(timestamp(at)),
        bank_code: String::new(),
    };
    let repeated = w
        .contribution
        .record_payment(as_caller(BOC, again.clone()))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(repeated, first);
    assert_eq!(fen(w.bill(EMPLOYER, on(2, 10)).await.paid), 360_000);

    // The same reference for another order, or another instant: refused.
    let other = w.order(flexible_of(&w).as_str(), "o-2", None).await;
    again.request_id = "reuse-1".into();
    again.order_id = other.order_id.clone();
    again.amount = other.amount;
    let status = w
        .contribution
        .record_payment(as_caller(BOC, again.clone()))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::FailedPrecondition);
    assert_eq!(reason(&status), "BANK_REFERENCE_REUSED");
    again.order_id = order.order_id.clone();
    again.amount = order.amount;
    again.paid_at = Some(timestamp(at + Duration::minutes(1)));
    again.request_id = "reuse-2".into();
    let status = w
        .contribution
        .record_payment(as_caller(BOC, again))
        .await
        .unwrap_err();
    assert_eq!(reason(&status), "BANK_REFERENCE_REUSED");
    // An order is paid once: another reference, or another bank, is refused.
    for (bank, reference) in [(BOC, "BOC-8"), (CCB, "CCB-1")] {
        let status = w
            .record(bank, &order, reference, 360_000, at)
            .await
            .unwrap_err();
        assert_eq!(reason(&status), "ORDER_ALREADY_PAID");
    }
    // The other reference of the other order is fine.
    w.record(BOC, &other, "BOC-9", 160_000, at).await.unwrap();
}

fn flexible_of(w: &World) -> String {
    w.flexible()
}

#[tokio::test]
async fn an_amount_other_than_the_orders_is_refused_and_a_part_is_ordered_instead() {
    let mut w = world().await;
    let order = w.order(EMPLOYER, "o-1", None).await;
    let at = morning(on(2, 10));
    for amount in [359_999, 360_001, 100] {
        let status = w
            .record(BOC, &order, "BOC-1", amount, at)
            .await
            .unwrap_err();
        assert_eq!(status.code(), Code::FailedPrecondition);
        assert_eq!(reason(&status), "AMOUNT_DIFFERS_FROM_ORDER");
        let info = tonic_types::StatusExt::get_error_details(&status)
            .error_info()
            .cloned()
            .unwrap();
        assert_eq!(info.metadata["order_amount_fen"], "360000");
    }
    assert_eq!(fen(w.bill(EMPLOYER, on(2, 10)).await.paid), 0);
    // To pay a part, the payer orders a part: the rest stays owed.
    let part = w.order(EMPLOYER, "o-part", Some(100_000)).await;
    let paid = w.record(BOC, &part, "BOC-2", 100_000, at).await.unwrap();
    let bill = paid.bill.unwrap();
    assert_eq!((fen(bill.paid), fen(bill.outstanding)), (100_000, 260_000));
    // More than is owed cannot be ordered.
    let status = socsec_fixtures::payment::order(
        &mut w.contribution,
        &As(EMPLOYER.into()),
        "o-too-much",
        "",
        january(),
        Some(260_001),
    )
    .await
    .unwrap_err();
    assert_eq!(reason(&status), "PAYMENT_EXCEEDS_OWED");
}

#[tokio::test]
async fn an_expired_order_and_impossible_payment_times_are_refused() {
    let mut w = world().await;
    // Made at 10:00 on 10 February in China: valid until midnight.
    let order = w.order(EMPLOYER, "o-1", None).await;
    let expires: DateTime<Utc> = {
        let t = order.expires_at.unwrap();
        DateTime::from_timestamp(t.seconds, t.nanos as u32).unwrap()
    };
    assert_eq!(expires, on(2, 10).and_hms_opt(16, 0, 0).unwrap().and_utc());
    w.system.clock.set(expires + Duration::hours(1));
    let status = w
        .record(BOC, &order, "BOC-1", 360_000, expires)
        .await
        .unwrap_err();
    assert_eq!(reason(&status), "ORDER_EXPIRED");
    let status = w
        .record(
            BOC,
            &order,
            "BOC-2",
            360_000,
            morning(on(2, 10)) - Duration::seconds(1),
        )
        .await
        .unwrap_err();
    assert_eq!(reason(&status), "PAID_BEFORE_ORDER");
    let status = w
        .record(
            BOC,
            &order,
            "BOC-3",
            360_000,
            w.system.clock.now() + Duration::hours(1),
        )
        .await
        .unwrap_err();
    assert_eq!(
        bad_fields(&status),
        [("paid_at".to_owned(), "PAID_AT_IN_FUTURE".to_owned())]
    );
    // Paid before midnight, reported by the bank the next morning: accepted.
    w.record(
        BOC,
        &order,
        "BOC-4",
        360_000,
        expires - Duration::seconds(1),
    )
    .await
    .unwrap();
}

#[tokio::test]
async fn the_late_fee_counts_to_the_day_the_bank_was_paid_not_the_day_it_reports() {
    let mut w = world().await;
    // Due 15 February; the employer orders on 25 February: ten days late,
    // 360,000 x 0.05% x 10 = 1,800 fen.
    w.system.clock.set(morning(on(2, 25)));
    let order = w.order(EMPLOYER, "o-1", None).await;
    assert_eq!(fen(order.bill.as_ref().unwrap().late_fee), 1_800);
    assert_eq!(fen(order.amount), 361_800);
    // The bank reports it three days later (28 days of fee would be 2,340).
    w.system.clock.set(morning(on(2, 28)));
    assert_eq!(fen(w.bill(EMPLOYER, on(2, 28)).await.late_fee), 2_340);
    let paid = w
        .record(BOC, &order, "BOC-1", 361_800, morning(on(2, 25)))
        .await
        .unwrap();
    assert_eq!(
        paid.paid_on,
        Some(Date {
            year: 2026,
            month: 2,
            day: 25
        })
    );
    let bill = w.bill(EMPLOYER, on(6, 1)).await;
    assert_eq!((fen(bill.late_fee), fen(bill.outstanding)), (1_800, 0));
}

#[tokio::test]
async fn only_the_bank_that_recorded_reverses_it_and_the_bill_is_owed_again() {
    let mut w = world().await;
    let payer = w.flexible();
    let (order, paid) = pay_through_bank(
        &mut w.contribution,
        &w.system.clock,
        on(2, 10),
        (&payer, BOC),
        ("", january()),
        None,
        "BOC-FLEX-1",
    )
    .await;
    assert_eq!(fen(paid.bill.as_ref().unwrap().outstanding), 0);
    let reverse = |bank_code: &str, request_id: &str| pb::ReversePaymentRequest {
        request_id: request_id.into(),
        bank_code: bank_code.into(),
        bank_reference: "BOC-FLEX-1".into(),
        reason: "returned: the payer's account was closed".into(),
    };
    // Another collecting bank: not its payment.
    let status = w
        .contribution
        .reverse_payment(as_caller(CCB, reverse("BOC", "ccb-1")))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::PermissionDenied);
    assert_eq!(reason(&status), "PAYMENT_OF_ANOTHER_BANK");
    let status = w
        .contribution
        .reverse_payment(as_caller(CCB, reverse("", "ccb-2")))
        .await
        .unwrap_err();
    assert_eq!(reason(&status), "PAYMENT_NOT_FOUND");

    // The bank that recorded it, on 20 March (after the due date).
    w.system.clock.set(morning(on(3, 20)));
    let reversed = w
        .contribution
        .reverse_payment(as_caller(BOC, reverse("", "boc-rev-1")))
        .await
        .unwrap()
        .into_inner();
    assert!(reversed.reversed_at.is_some());
    assert_eq!(reversed.order_id, order.order_id);
    let bill = reversed.bill.clone().unwrap();
    assert_eq!(fen(bill.paid), 0);
    assert!(fen(bill.outstanding) > 160_000);
    // A retry, or the same reversal under another request id: the same.
    for request_id in ["boc-rev-1", "boc-rev-2"] {
        let again = w
            .contribution
            .reverse_payment(as_caller(BOC, reverse("", request_id)))
            .await
            .unwrap()
            .into_inner();
        assert_eq!(again.reversed_at, reversed.reversed_at);
    }
    // The order is spent: the payer asks for a new one.
    let status = w
        .record(
            BOC,
            &order,
            "BOC-FLEX-2",
            fen(order.amount),
            morning(on(2, 10)),
        )
        .await
        .unwrap_err();
    assert_eq!(reason(&status), "ORDER_ALREADY_PAID");

    // Audited in the person's trail, with who reversed.
    let trail = audit_trail(&w.system.contribution, &w.person.person_id).await;
    assert!(
        trail
            .iter()
            .any(|r| r.action == "ReversePayment" && r.actor == "bank:BOC"),
        "{trail:?}"
    );
    // The arrears list sees the bill again.
    let arrears = w
        .contribution
        .list_arrears(operator(pb::ListArrearsRequest {
            region_code: REGION.into(),
            as_of: Some(Date {
                year: 2026,
                month: 3,
                day: 20,
            }),
            page: None,
        }))
        .await
        .unwrap()
        .into_inner();
    assert!(
        arrears.bills.iter().any(|b| b.payer == payer),
        "{arrears:?}"
    );

    // Services see the order, the payment and the reversal, in that order.
    let mut events = w
        .contribution
        .watch_contribution_events(as_caller(
            "service:activation",
            pb::WatchContributionEventsRequest {
                after: Some(EventCursor::default()),
                heartbeats: false,
            },
        ))
        .await
        .unwrap()
        .into_inner();
    let mut seen = Vec::new();
    while seen.len() < 3 {
        match events.next().await.unwrap().unwrap().event {
            Some(Event::PaymentOrderCreated(o)) if o.payer == payer => seen.push("order"),
            Some(Event::PaymentRecorded(p)) if p.payer == payer => seen.push("recorded"),
            Some(Event::PaymentReversed(p)) if p.payer == payer => seen.push("reversed"),
            _ => {}
        }
    }
    assert_eq!(seen, ["order", "recorded", "reversed"]);
}

#[tokio::test]
async fn nothing_is_recorded_while_identity_cannot_say_the_bank_collects() {
    let mut w = world().await;
    let order = w.order(EMPLOYER, "o-1", None).await;
    // The bank is admitted (and remembered) while identity runs.
    let part = w.order(EMPLOYER, "o-part", Some(1_000)).await;
    w.record(BOC, &part, "BOC-0", 1_000, morning(on(2, 10)))
        .await
        .unwrap();
    w.system.identity.stop().await.unwrap();
    let status = w
        .contribution
        .record_payment(as_caller(
            BOC,
            pb::RecordPaymentRequest {
                request_id: "BOC-1".into(),
                amount: order.amount,
                order_id: order.order_id.clone(),
                bank_reference: "BOC-1".into(),
                paid_at: order.created_at,
                bank_code: String::new(),
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::Unavailable);
    assert_eq!(reason(&status), "IDENTITY_UNAVAILABLE");
    let bill = w
        .contribution
        .get_bill(operator(pb::GetBillRequest {
            payer: EMPLOYER.into(),
            period: Some(january()),
            as_of: None,
        }))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(fen(bill.paid), 1_000);
}

#[tokio::test]
async fn only_a_bank_is_registered_to_collect() {
    let system = System::start().await;
    let mut identity = system.identity_client().await;
    let status = identity
        .register_partner(operator(identity::RegisterPartnerRequest {
            request_id: "emp-collects".into(),
            code: "EMP-9".into(),
            kind: PartnerKind::Employer as i32,
            name: "示范".into(),
            region_code: "110000".into(),
            credit_code: "91110000000000000X".into(),
            designation_in_force: true,
            collects_contributions: true,
            ..Default::default()
        }))
        .await
        .unwrap_err();
    assert!(
        bad_fields(&status).contains(&(
            "collects_contributions".into(),
            "COLLECTION_ONLY_FOR_BANKS".into()
        )),
        "{status:?}"
    );
    journeys::register_collecting_bank(&mut identity, "BOC").await;
    let boc = identity
        .get_partner(operator(identity::GetPartnerRequest { code: "BOC".into() }))
        .await
        .unwrap()
        .into_inner();
    assert!(boc.collects_contributions);
}
