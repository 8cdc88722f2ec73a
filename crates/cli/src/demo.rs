//! `socsec seed-demo` and `socsec demo`: demo partners and rates, and three
//! of the seed's journeys walked against the running system.

use std::time::Duration;

use chrono::{Datelike, Utc};
use socsec_proto::{
    activation::v1 as activation,
    card::v1 as card,
    common::v1::{self as common, Gender, PartnerKind},
    contribution::v1 as contribution,
    identity::v1 as identity,
};
use tonic::Code;
use tonic_types::StatusExt;

use crate::{
    commands::{Connection, Failure, Outcome, print_statement},
    output::{Printer, yuan},
};

pub const REGION: &str = "110100";
const BANK: &str = "ICBC";
const OUTLET: &str = "ICBC-0101";
const HOSPITAL: &str = "H-DEMO";
const PHARMACY: &str = "P-DEMO";
const BIN: &str = "622202";

/// Treats "already there" as done, so seeding can run again.
fn tolerate_existing<T>(result: Result<T, tonic::Status>) -> Result<(), Failure> {
    match result {
        Ok(_) => Ok(()),
        Err(status) if status.code() == Code::AlreadyExists => Ok(()),
        Err(status) => Err(status.into()),
    }
}

pub async fn seed(c: &Connection, out: Printer) -> Outcome {
    let mut identity = c.identity().await?;
    for (code, kind, name, parent, credit) in [
        (BANK, PartnerKind::Bank, "中国工商银行", "", ""),
        (
            OUTLET,
            PartnerKind::BankOutlet,
            "工商银行西城支行",
            BANK,
            "",
        ),
        (HOSPITAL, PartnerKind::Hospital, "北京市示范医院", "", ""),
        (PHARMACY, PartnerKind::Pharmacy, "示范大药房", "", ""),
        (
            "HL-12333",
            PartnerKind::HotlineCenter,
            "12333 服务热线",
            "",
            "",
        ),
        (
            "EMP-DEMO",
            PartnerKind::Employer,
            "示范科技有限公司",
            "",
            "914403001922038216",
        ),
        (
            "HRA-DEMO",
            PartnerKind::HrAgency,
            "示范人力资源有限公司",
            "",
            "9144030071526726XG",
        ),
    ] {
        let result = identity
            .register_partner(c.request(identity::RegisterPartnerRequest {
                request_id: format!("seed-partner-{code}"),
                code: code.into(),
                kind: kind as i32,
                name: name.into(),
                region_code: REGION.into(),
                parent_code: parent.into(),
                credit_code: credit.into(),
                designation_in_force: true,
            }))
            .await;
        tolerate_existing(result)?;
        out.line(&format!("partner {code} ({kind:?}) registered"));
    }
    let year = Utc::now().year();
    let mut contributions = c.contribution().await?;
    // Typical Beijing rates; the average monthly wage 11,937 yuan.
    for (kind, employer, employee, flexible, individual) in [
        (contribution::InsuranceType::OldAge, 1600, 800, 2000, 800),
        (contribution::InsuranceType::Medical, 980, 200, 1000, 0),
        (contribution::InsuranceType::Unemployment, 50, 50, 0, 0),
        (contribution::InsuranceType::WorkInjury, 40, 0, 0, 0),
    ] {
        contributions
            .set_rate_table(c.request(contribution::SetRateTableRequest {
                request_id: format!("seed-rates-{}-{year}", kind.as_str_name()),
                table: Some(contribution::RateTable {
                    region_code: REGION.into(),
                    insurance_type: kind as i32,
                    year,
                    employer_rate_bp: employer,
                    employee_rate_bp: employee,
                    flexible_rate_bp: flexible,
                    flexible_individual_rate_bp: individual,
                    average_monthly_wage: Some(common::Money { fen: 1_193_700 }),
                    base_floor_percent: 60,
                    base_ceiling_percent: 300,
                    rounding: contribution::Rounding::HalfUpFen as i32,
                    due_day_of_next_month: 15,
                    version: 0,
                }),
            }))
            .await?;
        out.line(&format!(
            "rates {} {year} for region {REGION} set",
            kind.as_str_name()
        ));
    }
    Ok(())
}

/// A fresh, valid ID number of a man born on 1 May 1990 in Xicheng, Beijing.
fn fresh_id_number() -> String {
    let sequence = (uuid::Uuid::new_v4().as_u128() % 500) as u32 * 2 + 1;
    let county = 102 + (uuid::Uuid::new_v4().as_u128() % 8) as u32;
    let body = format!("110{county}19900501{sequence:03}");
    let weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    let sum: u32 = body
        .bytes()
        .zip(weights)
        .map(|(d, w)| u32::from(d - b'0') * w)
        .sum();
    format!("{body}{}", b"10X98765432"[(sum % 11) as usize] as char)
}

fn step(out: Printer, text: String) {
    out.line(&format!("  ✓ {text}"));
}

async fn person_with_received_card(
    c: &Connection,
    out: Printer,
    name: &str,
) -> Result<(identity::Person, card::Card), Failure> {
    let mut identity = c.identity().await?;
    let id_number = fresh_id_number();
    let person = identity
        .register_person(c.request(identity::RegisterPersonRequest {
            request_id: format!("demo-register-{}", serial(&id_number)),
            id_number: id_number.clone(),
            basic_info: Some(identity::BasicInfo {
                name: name.into(),
                gender: Gender::Male as i32,
                ethnicity: "汉".into(),
                phone: "13800138000".into(),
                address: "北京市西城区".into(),
            }),
        }))
        .await?
        .into_inner();
    step(
        out,
        format!(
            "registered {name}, ID {}",
            person.masked_id_number.clone().unwrap_or_default().masked
        ),
    );
    let person = identity
        .correct_basic_info(c.request(identity::CorrectBasicInfoRequest {
            request_id: format!("demo-correct-{}", serial(&id_number)),
            person_id: person.person_id.clone(),
            basic_info: Some(identity::BasicInfo {
                name: name.into(),
                gender: Gender::Male as i32,
                ethnicity: "汉".into(),
                phone: "13900139000".into(),
                address: "北京市西城区复兴门内大街".into(),
            }),
            reason: "address completed at the counter".into(),
            evidence_ref: "HUKOU-DEMO".into(),
            version: 1,
        }))
        .await?
        .into_inner();
    step(
        out,
        format!("basic information corrected (version {})", person.version),
    );
    let person = identity
        .confirm_basic_info(c.request(identity::ConfirmBasicInfoRequest {
            request_id: format!("demo-confirm-{}", serial(&id_number)),
            person_id: person.person_id.clone(),
            version: person.version,
        }))
        .await?
        .into_inner();
    step(out, "basic information confirmed".into());
    let mut cards = c.cards().await?;
    let application = cards
        .apply_for_card(c.request(card::ApplyForCardRequest {
            request_id: format!("demo-apply-{}", serial(&id_number)),
            person_id: person.person_id.clone(),
            bank_code: BANK.into(),
            issuing_region_code: String::new(),
        }))
        .await?
        .into_inner();
    let issued = cards
        .issue_card(c.request(card::IssueCardRequest {
            request_id: format!("demo-issue-{}", serial(&id_number)),
            application_id: application.application_id,
            generation: 3,
            bank_card_number: String::new(),
            bank_bin: BIN.into(),
        }))
        .await?
        .into_inner();
    step(
        out,
        format!(
            "card {} issued with bank card {}",
            issued.card_number, issued.masked_bank_card_number
        ),
    );
    let received = cards
        .record_receipt(c.request(card::RecordReceiptRequest {
            request_id: format!("demo-receive-{}", serial(&id_number)),
            card_number: issued.card_number.clone(),
        }))
        .await?
        .into_inner();
    step(out, "card received by the holder".into());
    wait_projected(c, &received.card_number).await?;
    Ok((person, received))
}

/// Waits until activation has the card from card-issuance's events.
async fn wait_projected(c: &Connection, card_number: &str) -> Outcome {
    let mut activation = c.activation().await?;
    for _ in 0..100 {
        let state = activation
            .get_card_activation(c.request(activation::GetCardActivationRequest {
                card_number: card_number.into(),
            }))
            .await;
        if state
            .as_ref()
            .is_ok_and(|s| s.get_ref().card_status == "RECEIVED")
        {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Err(Failure::Usage(format!(
        "card {card_number} never reached activation"
    )))
}

fn eligibility_text(e: &activation::Eligibility) -> String {
    let reason = activation::EligibilityReason::try_from(e.reason)
        .map(|r| {
            r.as_str_name()
                .trim_start_matches("ELIGIBILITY_REASON_")
                .to_owned()
        })
        .unwrap_or_default();
    format!(
        "{} ({reason})",
        if e.eligible {
            "eligible"
        } else {
            "not eligible"
        }
    )
}

pub async fn journeys(c: &Connection, out: Printer) -> Outcome {
    out.line("Journey 1: register, correct, confirm, card, bank outlet activation, hospital visit");
    let (person, card) = person_with_received_card(c, out, "王建国").await?;
    let mut activation = c.activation().await?;
    let activated = activation
        .activate_at_bank_outlet(c.request_as(
            &format!("bank_outlet:{OUTLET}"),
            activation::ActivateAtBankOutletRequest {
                request_id: format!("demo-outlet-{}", card.card_number),
                operator_id: "TELLER-1".into(),
                card_number: card.card_number.clone(),
                id_number: person.id_number.clone(),
            },
        ))
        .await?
        .into_inner();
    step(
        out,
        format!(
            "activated at outlet {} by {}",
            activated.partner_code, activated.operator_id
        ),
    );
    let eligibility = activation
        .check_eligibility(c.request_as(
            &format!("hospital:{HOSPITAL}"),
            activation::CheckEligibilityRequest {
                card: Some(
                    activation::check_eligibility_request::Card::SocialSecurityCard(
                        activation::CardPresented {
                            card_number: card.card_number.clone(),
                            card_identification_code: card.card_identification_code.clone(),
                        },
                    ),
                ),
            },
        ))
        .await?
        .into_inner();
    step(
        out,
        format!(
            "at the hospital the card is {}",
            eligibility_text(&eligibility)
        ),
    );

    out.line("Journey 3: first use at a designated pharmacy with the old medical insurance card");
    let (person, card) = person_with_received_card(c, out, "李秀英").await?;
    let legacy_number = format!("YB{}", &person.id_number[10..17]);
    let mut cards = c.cards().await?;
    cards
        .register_legacy_medical_card(c.request(card::RegisterLegacyMedicalCardRequest {
            request_id: format!("demo-legacy-{legacy_number}"),
            card_number: legacy_number.clone(),
            person_id: person.person_id.clone(),
            region_code: REGION.into(),
        }))
        .await?;
    step(
        out,
        format!("old medical insurance card {legacy_number} on record"),
    );
    let pharmacy = format!("pharmacy:{PHARMACY}");
    let mut activated = None;
    for _ in 0..50 {
        // The old card travels to activation on card-issuance's event stream.
        let attempt = activation
            .activate_at_pharmacy(c.request_as(
                &pharmacy,
                activation::ActivateAtPharmacyRequest {
                    request_id: format!("demo-pharmacy-{}", card.card_number),
                    operator_id: "POS-1".into(),
                    legacy_card_number: legacy_number.clone(),
                    card_number: card.card_number.clone(),
                },
            ))
            .await;
        match attempt {
            Err(status)
                if status
                    .get_details_error_info()
                    .is_some_and(|i| i.reason == "LEGACY_CARD_NOT_FOUND") =>
            {
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            other => {
                activated = Some(other?.into_inner());
                break;
            }
        }
    }
    let activated =
        activated.ok_or_else(|| Failure::Usage("the old card never reached activation".into()))?;
    step(
        out,
        format!(
            "old card in, new card in: {} activated, {} retired",
            activated.card_number, activated.retired_legacy_card_number
        ),
    );
    let old = activation
        .check_eligibility(c.request_as(
            &pharmacy,
            activation::CheckEligibilityRequest {
                card: Some(
                    activation::check_eligibility_request::Card::LegacyCardNumber(legacy_number),
                ),
            },
        ))
        .await?
        .into_inner();
    step(
        out,
        format!("the old card is now {}", eligibility_text(&old)),
    );

    out.line("Journey 7: a flexible worker enrols online and pays monthly");
    flexible_worker(c, out).await
}

async fn flexible_worker(c: &Connection, out: Printer) -> Outcome {
    let mut identity = c.identity().await?;
    let id_number = fresh_id_number();
    let person = identity
        .register_person(c.request(identity::RegisterPersonRequest {
            request_id: format!("demo-register-{}", serial(&id_number)),
            id_number: id_number.clone(),
            basic_info: Some(identity::BasicInfo {
                name: "张自由".into(),
                gender: Gender::Male as i32,
                ethnicity: "汉".into(),
                phone: "13700137000".into(),
                address: "北京市朝阳区".into(),
            }),
        }))
        .await?
        .into_inner();
    identity
        .set_online_password(c.request(identity::SetOnlinePasswordRequest {
            request_id: format!("demo-password-{}", serial(&id_number)),
            id_number: id_number.clone(),
            password: "Demo2026pass".into(),
        }))
        .await?;
    let session = identity
        .sign_in(identity::SignInRequest {
            id_number,
            password: "Demo2026pass".into(),
        })
        .await?
        .into_inner();
    step(out, "password set at the counter; signed in online".into());
    let online = Connection {
        token: Some(session.token),
        ..c.clone()
    };
    let mut contributions = c.contribution().await?;
    let now = Utc::now();
    let period = common::YearMonth {
        year: now.year(),
        month: now.month() as i32,
    };
    contributions
        .enrol(online.request(contribution::EnrolRequest {
            request_id: format!("demo-enrol-{}", person.person_id),
            person_id: person.person_id.clone(),
            region_code: REGION.into(),
            insurance_types: vec![contribution::InsuranceType::OldAge as i32],
            scheme: contribution::Scheme::Flexible as i32,
            employer_code: String::new(),
            agency_contract_id: String::new(),
            start: Some(period),
        }))
        .await?;
    contributions
        .declare_wage(online.request(contribution::DeclareWageRequest {
            request_id: format!("demo-base-{}", person.person_id),
            person_id: person.person_id.clone(),
            period: Some(contribution::declare_wage_request::Period::Month(period)),
            monthly_wage: Some(common::Money { fen: 800_000 }),
        }))
        .await?;
    step(
        out,
        "enrolled online in old-age insurance, base 8,000.00 yuan".into(),
    );
    let mut run = contributions
        .run_month(c.request(contribution::RunMonthRequest {
            request_id: format!("demo-run-{}", person.person_id),
            period: Some(period),
            region_code: REGION.into(),
            payer_code: format!("person:{}", person.person_id),
        }))
        .await?
        .into_inner();
    while let Some(progress) = futures::StreamExt::next(&mut run).await {
        progress?;
    }
    let payer = format!("person:{}", person.person_id);
    let bill = contributions
        .get_bill(online.request(contribution::GetBillRequest {
            payer: payer.clone(),
            period: Some(period),
            as_of: None,
        }))
        .await?
        .into_inner();
    let owed = bill.outstanding.map_or(0, |m| m.fen);
    step(out, format!("this month's bill: {} yuan", yuan(owed)));
    contributions
        .record_payment(online.request(contribution::RecordPaymentRequest {
            request_id: format!("demo-pay-{}", person.person_id),
            payer,
            period: Some(period),
            amount: Some(common::Money { fen: owed }),
            paid_on: None,
        }))
        .await?;
    step(out, "paid online".into());
    let statement = contributions
        .get_statement(online.request(contribution::GetStatementRequest {
            person_id: person.person_id,
            from: Some(period),
            to: Some(period),
            page: None,
        }))
        .await?
        .into_inner();
    if out.json {
        out.message("socsec.contribution.v1.Statement", &statement);
    } else {
        print_statement(&statement);
    }
    Ok(())
}

/// A stable serial for request ids about the person with `id_number`:
/// request ids are kept in audit trails and must not carry the number.
fn serial(id_number: &str) -> String {
    use std::hash::{Hash, Hasher};
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    id_number.hash(&mut hasher);
    format!("{:016x}", hasher.finish())
}
