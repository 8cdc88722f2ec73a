//! The seed's nine journeys, end to end over gRPC, with all four services
//! running on one fresh database.

use std::time::Duration;

use socsec_proto::{
    activation::v1::{self as activation, EligibilityReason, check_eligibility_request::Card},
    card::v1 as card,
    common::v1::{Date, Money, PartnerKind, YearMonth},
    contribution::v1::{self as contribution, InsuranceType, Scheme},
    identity::v1 as identity,
};
use system_tests::{as_caller, audit_trail, journeys, operator, pay_through_bank, with_token};

system_tests::world!(World);

const REGION: &str = "110100";
/// Contributions are paid through this bank.
const COLLECTING_BANK: &str = "BOC";
const BANK: &str = "bank:BOC";

fn day(month: u32, day: u32) -> chrono::NaiveDate {
    chrono::NaiveDate::from_ymd_opt(2026, month, day).unwrap()
}

/// A partner's answer carries neither the person's ID number, name nor
/// address, nor any full ID or bank card number.
fn assert_names_no_one(answer: &impl std::fmt::Debug, person: &identity::Person) {
    let shown = format!("{answer:?}");
    let info = person.basic_info.as_ref().unwrap();
    assert!(!shown.contains(&person.id_number), "{shown}");
    assert!(!shown.contains(&info.name), "{shown}");
    assert!(!shown.contains(&info.address), "{shown}");
    assert!(
        system_tests::logs::personal_data_in(&shown).is_empty(),
        "{shown}"
    );
}

/// Every service of every journey run so far in this process logs into one
/// capture: no full ID number or bank card number may be in it. Nor may the
/// database server's log hold one, or a name or address.
fn assert_no_personal_data_logged() {
    let found = system_tests::logs::personal_data_in_logs();
    assert!(
        found.is_empty(),
        "{} full ID or bank card numbers in the service logs",
        found.len()
    );
    let found = system_tests::logs::personal_data_in_database_log(&[]);
    assert!(
        found.is_empty(),
        "{} full ID or bank card numbers, names or addresses in the database server's log",
        found.len()
    );
}

async fn world() -> World {
    let mut w = system_tests::World::with_partners(
        &[
            ("ICBC", PartnerKind::Bank, ""),
            ("ICBC-0101", PartnerKind::BankOutlet, "ICBC"),
            ("H-001", PartnerKind::Hospital, ""),
            ("P-001", PartnerKind::Pharmacy, ""),
            ("HL-12333", PartnerKind::HotlineCenter, ""),
            ("EMP-1", PartnerKind::Employer, ""),
            ("AGENCY-1", PartnerKind::HrAgency, ""),
        ],
        &[COLLECTING_BANK],
    )
    .await;
    w.contribution
        .set_rate_table(operator(contribution::SetRateTableRequest {
            request_id: "rates".into(),
            table: Some(socsec_fixtures::rates::typical(
                REGION,
                InsuranceType::OldAge,
                2026,
            )),
        }))
        .await
        .unwrap();
    World(w)
}

impl World {
    async fn eligibility(&mut self, caller: &str, card: Card) -> activation::Eligibility {
        self.activation
            .check_eligibility(as_caller(
                caller,
                activation::CheckEligibilityRequest { card: Some(card) },
            ))
            .await
            .unwrap()
            .into_inner()
    }

    async fn legacy_card(&mut self, person: &identity::Person, number: &str) {
        journeys::register_legacy_card(&mut self.cards, person, number).await;
        let what = format!("old card {number} to reach activation");
        system_tests::eventually(&what, Duration::from_secs(10), async || {
            let e = self
                .eligibility("pharmacy:P-001", Card::LegacyCardNumber(number.into()))
                .await;
            (e.reason != EligibilityReason::CardUnknown as i32).then_some(())
        })
        .await;
    }
}

fn presented(card: &card::Card) -> Card {
    Card::SocialSecurityCard(activation::CardPresented {
        card_number: card.card_number.clone(),
        card_identification_code: card.card_identification_code.clone(),
    })
}

fn ym(month: i32) -> Option<YearMonth> {
    Some(YearMonth { year: 2026, month })
}

#[tokio::test]
async fn journey_1_registration_to_bank_outlet_activation_and_a_hospital_visit() {
    let mut w = world().await;
    let person = journeys::register(&mut w.identity, "王建国").await;
    let corrected = w
        .identity
        .correct_basic_info(operator(identity::CorrectBasicInfoRequest {
            request_id: "j1-correct".into(),
            person_id: person.person_id.clone(),
            basic_info: Some(journeys::basic_info(
                "王建国",
                socsec_proto::common::v1::Gender::Male,
            )),
            reason: "phone number updated".into(),
            evidence_ref: "FORM-1".into(),
            version: 1,
        }))
        .await
        .unwrap()
        .into_inner();
    let person = journeys::confirm(&mut w.identity, &corrected).await;
    let application = journeys::apply(&mut w.cards, &person, "ICBC").await;
    let card = journeys::issue(&mut w.cards, &application).await;
    let card = journeys::receive(&mut w.cards, &card).await;
    journeys::projected(&mut w.activation, &card.card_number, "RECEIVED").await;

    let activated = w
        .activation
        .activate_at_bank_outlet(as_caller(
            "bank_outlet:ICBC-0101",
            activation::ActivateAtBankOutletRequest {
                request_id: "j1-outlet".into(),
                operator_id: "TELLER-1".into(),
                card_number: card.card_number.clone(),
                card_identification_code: card.card_identification_code.clone(),
                id_number: person.id_number.clone(),
            },
        ))
        .await
        .unwrap()
        .into_inner();
    assert_names_no_one(&activated, &person);
    let eligibility = w.eligibility("hospital:H-001", presented(&card)).await;
    assert_names_no_one(&eligibility, &person);
    assert!(
        w.eligibility("hospital:H-001", presented(&card))
            .await
            .eligible
    );
    assert_no_personal_data_logged();

    // The operator asks every service for this person's audit trail: every
    // access of the journey is there, by whom, through which RPC.
    let mut seen = Vec::new();
    for service in [
        &w.system.identity,
        &w.system.cards,
        &w.system.activation,
        &w.system.contribution,
    ] {
        for r in audit_trail(service, &person.person_id).await {
            assert_eq!(r.person_id, person.person_id);
            assert!(r.at.is_some());
            let service = r.service.split('.').nth(1).unwrap_or_default().to_owned();
            let on_behalf_of = if r.on_behalf_of.is_empty() {
                String::new()
            } else {
                format!(" for {} {}", r.on_behalf_of, r.request_id)
            };
            seen.push(format!(
                "{service} {} {} {}{on_behalf_of}",
                r.actor, r.action, r.access
            ));
        }
    }
    // (Waiting for the card to reach activation polls GetCardActivation.)
    seen.dedup();
    let apply = format!(
        "identity service:card-issuance GetPerson READ for operator:OP0001 apply-{}",
        person.person_id
    );
    assert_eq!(
        seen,
        [
            "identity operator:OP0001 RegisterPerson CHANGE",
            "identity operator:OP0001 CorrectBasicInfo CHANGE",
            "identity operator:OP0001 ConfirmBasicInfo CHANGE",
            apply.as_str(),
            "identity service:activation VerifyHolder READ for bank_outlet:ICBC-0101 j1-outlet",
            "identity operator:OP0001 ListAuditRecords READ",
            "card operator:OP0001 ApplyForCard CHANGE",
            "card operator:OP0001 IssueCard CHANGE",
            "card operator:OP0001 RecordReceipt CHANGE",
            "card operator:OP0001 ListAuditRecords READ",
            "activation operator:OP0001 GetCardActivation READ",
            "activation bank_outlet:ICBC-0101 ActivateAtBankOutlet CHANGE",
            "activation hospital:H-001 CheckEligibility READ",
            "activation operator:OP0001 ListAuditRecords READ",
            "contribution operator:OP0001 ListAuditRecords READ",
        ]
    );
}

#[tokio::test]
async fn journey_2_first_outpatient_or_inpatient_registration_activates() {
    let mut w = world().await;
    for (name, visit) in [
        ("门诊一", activation::VisitType::Outpatient),
        ("住院二", activation::VisitType::Inpatient),
    ] {
        let (_, card) = w.holder(name).await;
        let activated = w
            .activation
            .activate_at_hospital(as_caller(
                "hospital:H-001",
                activation::ActivateAtHospitalRequest {
                    request_id: format!("j2-{}", card.card_number),
                    operator_id: "DESK".into(),
                    card_number: card.card_number.clone(),
                    card_identification_code: card.card_identification_code.clone(),
                    visit_type: visit as i32,
                    ..Default::default()
                },
            ))
            .await
            .unwrap()
            .into_inner();
        assert_eq!(activated.channel, activation::Channel::Hospital as i32);
        assert!(
            w.eligibility("hospital:H-001", presented(&card))
                .await
                .eligible
        );
    }
    assert_no_personal_data_logged();
}

#[tokio::test]
async fn journey_3_pharmacy_old_card_then_new_card() {
    let mut w = world().await;
    let (person, card) = w.holder("李秀英").await;
    w.legacy_card(&person, "YB3000001").await;
    let activated = w
        .activation
        .activate_at_pharmacy(as_caller(
            "pharmacy:P-001",
            activation::ActivateAtPharmacyRequest {
                request_id: "j3".into(),
                operator_id: "POS".into(),
                legacy_card_number: "YB3000001".into(),
                card_number: card.card_number.clone(),
                card_identification_code: card.card_identification_code.clone(),
                ..Default::default()
            },
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(activated.retired_legacy_card_number, "YB3000001");
    // What the pharmacy got back names no one.
    assert_names_no_one(&activated, &person);
    assert_eq!(
        w.eligibility("pharmacy:P-001", Card::LegacyCardNumber("YB3000001".into()))
            .await
            .reason,
        EligibilityReason::LegacyCardRetired as i32
    );
    assert!(
        w.eligibility("pharmacy:P-001", presented(&card))
            .await
            .eligible
    );
    assert_no_personal_data_logged();
}

#[tokio::test]
async fn journey_4_the_bank_enables_the_financial_function() {
    let mut w = world().await;
    let (person, card) = w.holder("赵金融").await;
    let activated = w
        .activation
        .activate_with_financial_function(as_caller(
            "bank:ICBC",
            activation::ActivateWithFinancialFunctionRequest {
                request_id: "j4".into(),
                serial_number: card.serial_number.clone(),
                id_number: person.id_number.clone(),
                bank_card_number: card.bank_card_number.clone(),
            },
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        activated.channel,
        activation::Channel::FinancialFunction as i32
    );
    assert_names_no_one(&activated, &person);
    assert_no_personal_data_logged();
}

#[tokio::test]
async fn journey_5_the_12333_hotline() {
    let mut w = world().await;
    let (person, card) = w.holder("钱热线").await;
    let activated = w
        .activation
        .activate_by_hotline(as_caller(
            "hotline_center:HL-12333",
            activation::ActivateByHotlineRequest {
                request_id: "j5".into(),
                agent_id: "AGENT-1".into(),
                id_number: person.id_number.clone(),
                name: "钱热线".into(),
                card_number: card.card_number.clone(),
            },
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(activated.channel, activation::Channel::Hotline as i32);
    assert_names_no_one(&activated, &person);
    assert_no_personal_data_logged();
}

#[tokio::test]
async fn journey_6_six_months_without_activation_restrict_the_old_card_until_activated() {
    let mut w = world().await;
    let (person, card) = w.holder("孙迟到").await;
    w.legacy_card(&person, "YB6000001").await;
    let state = journeys::projected(&mut w.activation, &card.card_number, "RECEIVED").await;
    let deadline =
        chrono::DateTime::from_timestamp(state.activation_deadline.unwrap().seconds, 0).unwrap();
    w.system.clock.set(deadline + chrono::Duration::seconds(1));

    let old = w
        .eligibility("hospital:H-001", Card::LegacyCardNumber("YB6000001".into()))
        .await;
    assert!(!old.eligible);
    assert_eq!(old.reason, EligibilityReason::LegacyCardRestricted as i32);

    w.activation
        .activate_at_bank_outlet(as_caller(
            "bank_outlet:ICBC-0101",
            activation::ActivateAtBankOutletRequest {
                request_id: "j6".into(),
                operator_id: "TELLER".into(),
                card_number: card.card_number.clone(),
                card_identification_code: card.card_identification_code.clone(),
                id_number: person.id_number.clone(),
            },
        ))
        .await
        .unwrap();
    assert!(
        w.eligibility("hospital:H-001", Card::LegacyCardNumber("YB6000001".into()))
            .await
            .eligible
    );
    assert_no_personal_data_logged();
}

async fn run_month(w: &mut World, request_id: &str, month: i32) {
    use futures::StreamExt;
    let mut stream = w
        .contribution
        .run_month(operator(contribution::RunMonthRequest {
            request_id: request_id.into(),
            period: ym(month),
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

fn totals(s: &contribution::Statement) -> (i64, i64) {
    (
        s.individual_account_total.unwrap().fen,
        s.pooling_fund_total.unwrap().fen,
    )
}

#[tokio::test]
async fn journey_7_a_flexible_worker_online() {
    let mut w = world().await;
    let person = journeys::register(&mut w.identity, "周自由").await;
    w.identity
        .set_online_password(operator(identity::SetOnlinePasswordRequest {
            request_id: "j7-pw".into(),
            id_number: person.id_number.clone(),
            password: "Journey7pass".into(),
        }))
        .await
        .unwrap();
    let token = w
        .identity
        .sign_in(identity::SignInRequest {
            id_number: person.id_number.clone(),
            password: "Journey7pass".into(),
        })
        .await
        .unwrap()
        .into_inner()
        .token;
    system_tests::remember_session(&person.person_id, &token);
    w.contribution
        .enrol(with_token(
            &token,
            contribution::EnrolRequest {
                request_id: "j7-enrol".into(),
                person_id: person.person_id.clone(),
                region_code: REGION.into(),
                insurance_types: vec![InsuranceType::OldAge as i32],
                scheme: Scheme::Flexible as i32,
                start: ym(1),
                ..Default::default()
            },
        ))
        .await
        .unwrap();
    let payer = format!("person:{}", person.person_id);
    for month in 1..=2 {
        w.contribution
            .declare_wage(with_token(
                &token,
                contribution::DeclareWageRequest {
                    request_id: format!("j7-base-{month}"),
                    person_id: person.person_id.clone(),
                    period: Some(contribution::declare_wage_request::Period::Month(
                        YearMonth { year: 2026, month },
                    )),
                    monthly_wage: Some(Money { fen: 800_000 }),
                },
            ))
            .await
            .unwrap();
        run_month(&mut w, &format!("j7-run-{month}"), month).await;
        // 20% of 8,000 yuan each month: the worker asks for a payment order
        // online, pays it at the collecting bank, and the bank records it.
        let (order, paid) = pay_through_bank(
            &mut w.0.contribution,
            &w.0.system.clock,
            day(month as u32, 20),
            (&payer, BANK),
            ("", ym(month).unwrap()),
            None,
            &format!("BOC-J7-{month}"),
        )
        .await;
        assert_eq!(order.amount.unwrap().fen, 160_000);
        assert_eq!(paid.bill.unwrap().outstanding.unwrap().fen, 0);
    }
    let s = w
        .contribution
        .get_statement(with_token(
            &token,
            contribution::GetStatementRequest {
                person_id: person.person_id.clone(),
                from: ym(1),
                to: ym(12),
                page: None,
            },
        ))
        .await
        .unwrap()
        .into_inner();
    // Article 12: 8% to the individual account, 12% to the pooling fund.
    assert_eq!(totals(&s), (2 * 64_000, 2 * 96_000));
    assert!(s.lines.iter().all(|l| l.paid));
    assert_no_personal_data_logged();
}

#[tokio::test]
async fn journey_8_an_individual_through_an_hr_agency() {
    let mut w = world().await;
    let person = journeys::register(&mut w.identity, "吴代理").await;
    let contract = w
        .contribution
        .register_agency_contract(as_caller(
            "hr_agency:AGENCY-1",
            contribution::RegisterAgencyContractRequest {
                request_id: "j8-contract".into(),
                agency_code: "AGENCY-1".into(),
                person_id: person.person_id.clone(),
                monthly_service_fee: Some(Money { fen: 8_000 }),
                start: ym(1),
                end: ym(12),
            },
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        contract.status,
        contribution::AgencyContractStatus::Pending as i32
    );
    // The person signs in, sees the contract awaiting consent, and confirms
    // it: only then may the agency enrol them.
    w.identity
        .set_online_password(operator(identity::SetOnlinePasswordRequest {
            request_id: "j8-pw".into(),
            id_number: person.id_number.clone(),
            password: "Journey8pass".into(),
        }))
        .await
        .unwrap();
    let token = w
        .identity
        .sign_in(identity::SignInRequest {
            id_number: person.id_number.clone(),
            password: "Journey8pass".into(),
        })
        .await
        .unwrap()
        .into_inner()
        .token;
    let awaiting = w
        .contribution
        .list_agency_contracts(with_token(
            &token,
            contribution::ListAgencyContractsRequest {
                person_id: person.person_id.clone(),
                page: None,
            },
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(awaiting.contracts, vec![contract.clone()]);
    w.contribution
        .confirm_agency_contract(with_token(
            &token,
            contribution::ConfirmAgencyContractRequest {
                request_id: "j8-consent".into(),
                contract_id: contract.contract_id.clone(),
            },
        ))
        .await
        .unwrap();
    w.contribution
        .enrol(as_caller(
            "hr_agency:AGENCY-1",
            contribution::EnrolRequest {
                request_id: "j8-enrol".into(),
                person_id: person.person_id.clone(),
                region_code: REGION.into(),
                insurance_types: vec![InsuranceType::OldAge as i32],
                scheme: Scheme::Agency as i32,
                agency_contract_id: contract.contract_id,
                start: ym(1),
                ..Default::default()
            },
        ))
        .await
        .unwrap();
    w.contribution
        .declare_wage(as_caller(
            "hr_agency:AGENCY-1",
            contribution::DeclareWageRequest {
                request_id: "j8-wage".into(),
                person_id: person.person_id.clone(),
                period: Some(contribution::declare_wage_request::Period::Year(2026)),
                monthly_wage: Some(Money { fen: 900_000 }),
            },
        ))
        .await
        .unwrap();
    run_month(&mut w, "j8-run", 1).await;
    // 9,000 yuan: 16% = 144,000 + 8% = 72,000 + the 80 yuan fee = 224,000 fen.
    let (order, paid) = pay_through_bank(
        &mut w.0.contribution,
        &w.0.system.clock,
        day(1, 31),
        ("hr_agency:AGENCY-1", BANK),
        ("", ym(1).unwrap()),
        None,
        "BOC-J8",
    )
    .await;
    assert_eq!(order.amount.unwrap().fen, 224_000);
    assert_eq!(paid.bill.unwrap().outstanding.unwrap().fen, 0);

    // The person inquires their details with their own sign-in.
    let s = w
        .contribution
        .get_statement(with_token(
            &token,
            contribution::GetStatementRequest {
                person_id: person.person_id.clone(),
                from: ym(1),
                to: ym(1),
                page: None,
            },
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(totals(&s), (72_000, 144_000));
    assert!(
        s.lines
            .iter()
            .any(|l| l.part == "SERVICE_FEE" && l.amount.unwrap().fen == 8_000)
    );
    assert_no_personal_data_logged();
}

#[tokio::test]
async fn journey_9_employer_and_employee_with_a_late_payment() {
    let mut w = world().await;
    let person = journeys::register(&mut w.identity, "郑职工").await;
    w.contribution
        .enrol(operator(contribution::EnrolRequest {
            request_id: "j9-enrol".into(),
            person_id: person.person_id.clone(),
            region_code: REGION.into(),
            insurance_types: vec![InsuranceType::OldAge as i32],
            scheme: Scheme::Employee as i32,
            employer_code: "EMP-1".into(),
            start: ym(1),
            ..Default::default()
        }))
        .await
        .unwrap();
    w.contribution
        .declare_wage(as_caller(
            "employer:EMP-1",
            contribution::DeclareWageRequest {
                request_id: "j9-wage".into(),
                person_id: person.person_id.clone(),
                period: Some(contribution::declare_wage_request::Period::Month(
                    YearMonth {
                        year: 2026,
                        month: 1,
                    },
                )),
                monthly_wage: Some(Money { fen: 1_500_000 }),
            },
        ))
        .await
        .unwrap();
    run_month(&mut w, "j9-run", 1).await;
    let s = w
        .contribution
        .get_statement(operator(contribution::GetStatementRequest {
            person_id: person.person_id.clone(),
            from: ym(1),
            to: ym(1),
            page: None,
        }))
        .await
        .unwrap()
        .into_inner();
    // 15,000 yuan: employer 16% = 240,000 to the pooling fund, employee 8% =
    // 120,000 to the individual account.
    assert_eq!(totals(&s), (120_000, 240_000));

    // Due 15 February, paid 4 March: 17 days x 0.05% x 360,000 = 3,060 fen.
    let bill = w
        .contribution
        .get_bill(as_caller(
            "employer:EMP-1",
            contribution::GetBillRequest {
                payer: "employer:EMP-1".into(),
                period: ym(1),
                as_of: Some(Date {
                    year: 2026,
                    month: 3,
                    day: 4,
                }),
            },
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(bill.late_fee.unwrap().fen, 3_060);
    assert_eq!(bill.outstanding.unwrap().fen, 363_060);

    // The employer pays on 4 March through the bank: the order holds the
    // late fee to that day, and the bank's payment clears the bill.
    let (order, paid) = pay_through_bank(
        &mut w.0.contribution,
        &w.0.system.clock,
        day(3, 4),
        ("employer:EMP-1", BANK),
        ("", ym(1).unwrap()),
        None,
        "BOC-J9",
    )
    .await;
    assert_eq!(order.amount.unwrap().fen, 363_060);
    let after = paid.bill.unwrap();
    assert_eq!(
        (after.late_fee.unwrap().fen, after.outstanding.unwrap().fen),
        (3_060, 0)
    );
    assert_no_personal_data_logged();
}
