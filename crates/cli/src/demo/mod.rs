//! `socsec seed-demo` and `socsec demo`: demo partners and rates, and three
//! of the seed's journeys walked against the running system.

mod flexible;
mod journeys;

use chrono::{Datelike, Utc};
use socsec_fixtures::{payment::COLLECTING_BANK, rates};
use socsec_proto::{
    common::v1::PartnerKind, contribution::v1 as contribution, identity::v1 as identity,
};
use tonic::Code;

pub use journeys::journeys;

use crate::{
    connection::{Connection, Failure, Outcome},
    output::Printer,
};

pub const REGION: &str = "110100";
const BANK: &str = "ICBC";
const OUTLET: &str = "ICBC-0101";
const HOSPITAL: &str = "H-DEMO";
const PHARMACY: &str = "P-DEMO";

/// Treats "already there" as done, so seeding can run again.
fn tolerate_existing<T>(result: Result<T, tonic::Status>) -> Result<(), Failure> {
    match result {
        Ok(_) => Ok(()),
        Err(status) if status.code() == Code::AlreadyExists => Ok(()),
        Err(status) => Err(status.into()),
    }
}

fn step(out: Printer, text: String) {
    out.line(&format!("  ✓ {text}"));
}

pub async fn seed(c: &Connection, out: Printer) -> Outcome {
    let mut identity = c.identity().await?;
    for (code, kind, name, parent, credit) in [
        (BANK, PartnerKind::Bank, "中国工商银行", "", ""),
        (COLLECTING_BANK, PartnerKind::Bank, "中国银行", "", ""),
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
                // The demo's collecting bank: contributions are paid through it.
                collects_contributions: code == COLLECTING_BANK,
            }))
            .await;
        tolerate_existing(result)?;
        out.line(&format!("partner {code} ({kind:?}) registered"));
    }
    let year = Utc::now().year();
    let mut contributions = c.contribution().await?;
    // Typical Beijing rates; the average monthly wage 11,937 yuan.
    for kind in [
        contribution::InsuranceType::OldAge,
        contribution::InsuranceType::Medical,
        contribution::InsuranceType::Unemployment,
        contribution::InsuranceType::WorkInjury,
    ] {
        contributions
            .set_rate_table(c.request(contribution::SetRateTableRequest {
                request_id: format!("seed-rates-{}-{year}", kind.as_str_name()),
                table: Some(rates::typical(REGION, kind, year)),
            }))
            .await?;
        out.line(&format!(
            "rates {} {year} for region {REGION} set",
            kind.as_str_name()
        ));
    }
    Ok(())
}
