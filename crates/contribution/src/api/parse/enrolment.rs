//! Enrolment, rate tables, wages and the monthly run.

use pii::PartnerCode;
use platform::{all_some, error::FieldViolations, idempotency::RequestId};
use socsec_proto::contribution::v1 as pb;
use uuid::Uuid;

use super::{
    MAX_MONTHLY_WAGE_FEN, Result, accept, bounded, insurance_type, limits, money, payer, period,
};
use crate::domain::{
    Enrolling, InsuranceType, Money, Period, RateTable, Rounding,
    commands::{DeclareWage, Enrol, RunMonth},
    rates::DEFAULT_BASE_LIMITS,
};

pub fn enrol(req: &pb::EnrolRequest) -> Result<(RequestId, Enrol)> {
    bounded(&limits::ENROL, req)?;
    let mut v = FieldViolations::new();
    let request_id = RequestId::parse(&mut v, &req.request_id);
    let person_id = platform::error::uuid(&mut v, "person_id", &req.person_id);
    let region = platform::error::region_code(&mut v, "region_code", &req.region_code);
    let mut types: Vec<InsuranceType> = Vec::new();
    for (i, t) in req.insurance_types.iter().enumerate() {
        match insurance_type(*t) {
            Some(t) if !types.contains(&t) => types.push(t),
            Some(_) => v.add(
                &format!("insurance_types[{i}]"),
                "INSURANCE_TYPE_DUPLICATE",
                "is given twice",
            ),
            None => v.add(
                &format!("insurance_types[{i}]"),
                "INSURANCE_TYPE_INVALID",
                "is not an insurance type",
            ),
        }
    }
    if req.insurance_types.is_empty() {
        v.add(
            "insurance_types",
            "FIELD_REQUIRED",
            "name at least one insurance type",
        );
    }
    let enrolling = match pb::Scheme::try_from(req.scheme) {
        Ok(pb::Scheme::Employee) => match PartnerCode::parse(&req.employer_code) {
            Ok(employer) => Some(Enrolling::Employee { employer }),
            Err(_) => {
                v.add(
                    "employer_code",
                    "FIELD_REQUIRED",
                    "an employee is enrolled by their employer's code",
                );
                None
            }
        },
        Ok(pb::Scheme::Flexible) => Some(Enrolling::Flexible),
        Ok(pb::Scheme::Agency) => match Uuid::parse_str(&req.agency_contract_id) {
            Ok(contract_id) => Some(Enrolling::Agency { contract_id }),
            Err(_) => {
                v.add(
                    "agency_contract_id",
                    "FIELD_REQUIRED",
                    "an agency enrolment names its contract",
                );
                None
            }
        },
        Ok(pb::Scheme::Unspecified) | Err(_) => {
            v.add(
                "scheme",
                "SCHEME_REQUIRED",
                "must be EMPLOYEE, FLEXIBLE or AGENCY",
            );
            None
        }
    };
    let start = period(&mut v, "start", req.start.as_ref());
    let (request_id, person_id, region_code, enrolling, start) = accept(
        v,
        all_some!(request_id, person_id, region, enrolling, start),
    )?;
    let command = Enrol {
        person_id,
        region_code,
        insurance_types: types,
        enrolling,
        start,
    };
    Ok((request_id, command))
}

pub fn set_rate_table(req: &pb::SetRateTableRequest) -> Result<(RequestId, RateTable)> {
    bounded(&limits::SET_RATE_TABLE, req)?;
    let mut v = FieldViolations::new();
    let request_id = RequestId::parse(&mut v, &req.request_id);
    let t = req.table.clone().unwrap_or_default();
    let region = platform::error::region_code(&mut v, "table.region_code", &t.region_code);
    let insurance_type = insurance_type(t.insurance_type);
    if insurance_type.is_none() {
        v.add(
            "table.insurance_type",
            "INSURANCE_TYPE_INVALID",
            "is not an insurance type",
        );
    }
    if !(2000..=2100).contains(&t.year) {
        v.add("table.year", "YEAR_INVALID", "must be 2000 to 2100");
    }
    for (field, bp) in [
        ("table.employer_rate_bp", t.employer_rate_bp),
        ("table.employee_rate_bp", t.employee_rate_bp),
        ("table.flexible_rate_bp", t.flexible_rate_bp),
        (
            "table.flexible_individual_rate_bp",
            t.flexible_individual_rate_bp,
        ),
    ] {
        if !(0..=10_000).contains(&bp) {
            v.add(field, "RATE_INVALID", "must be 0 to 10000 basis points");
        }
    }
    if t.flexible_individual_rate_bp > t.flexible_rate_bp {
        v.add(
            "table.flexible_individual_rate_bp",
            "RATE_INVALID",
            "must not exceed the flexible rate",
        );
    }
    let wage = money(
        &mut v,
        "table.average_monthly_wage",
        t.average_monthly_wage.as_ref(),
        MAX_MONTHLY_WAGE_FEN,
    );
    if wage == Some(Money::ZERO) {
        v.add(
            "table.average_monthly_wage",
            "AMOUNT_INVALID",
            "must be positive",
        );
    }
    let (floor, ceiling) = match (t.base_floor_percent, t.base_ceiling_percent) {
        (0, 0) => DEFAULT_BASE_LIMITS,
        (f, c) => (f, c),
    };
    if !(1..=100).contains(&floor) || !(100..=1000).contains(&ceiling) {
        v.add(
            "table.base_floor_percent",
            "BASE_LIMITS_INVALID",
            "floor 1-100 %, ceiling 100-1000 %",
        );
    }
    let rounding = match pb::Rounding::try_from(t.rounding) {
        Ok(pb::Rounding::UpJiao) => Rounding::UpJiao,
        _ => Rounding::HalfUpFen,
    };
    if !(0..=28).contains(&t.due_day_of_next_month) {
        v.add(
            "table.due_day_of_next_month",
            "DUE_DAY_INVALID",
            "must be 0 to 28",
        );
    }
    let (request_id, region_code, insurance_type, average_monthly_wage) =
        accept(v, all_some!(request_id, region, insurance_type, wage))?;
    let table = RateTable {
        region_code,
        insurance_type,
        year: t.year,
        version: 0,
        employer_rate_bp: t.employer_rate_bp,
        employee_rate_bp: t.employee_rate_bp,
        flexible_rate_bp: t.flexible_rate_bp,
        flexible_individual_rate_bp: t.flexible_individual_rate_bp,
        average_monthly_wage,
        base_floor_percent: floor,
        base_ceiling_percent: ceiling,
        rounding,
        due_day_of_next_month: t.due_day_of_next_month,
    };
    Ok((request_id, table))
}

/// The region, insurance type and year of a table asked for.
pub fn get_rate_table(req: &pb::GetRateTableRequest) -> Result<(String, InsuranceType, i32)> {
    bounded(&limits::GET_RATE_TABLE, req)?;
    let mut v = FieldViolations::new();
    let region = platform::error::region_code(&mut v, "region_code", &req.region_code);
    let insurance_type = insurance_type(req.insurance_type);
    if insurance_type.is_none() {
        v.add(
            "insurance_type",
            "INSURANCE_TYPE_INVALID",
            "is not an insurance type",
        );
    }
    let (region, insurance_type) = accept(v, all_some!(region, insurance_type))?;
    Ok((region, insurance_type, req.year))
}

pub fn declare_wage(req: &pb::DeclareWageRequest) -> Result<(RequestId, DeclareWage)> {
    use pb::declare_wage_request::Period as Which;
    bounded(&limits::DECLARE_WAGE, req)?;
    let mut v = FieldViolations::new();
    let request_id = RequestId::parse(&mut v, &req.request_id);
    let person_id = platform::error::uuid(&mut v, "person_id", &req.person_id);
    let periods: Option<Vec<Period>> = match &req.period {
        Some(Which::Month(month)) => period(&mut v, "month", Some(month)).map(|p| vec![p]),
        Some(Which::Year(year)) if (2000..=2100).contains(year) => Some(Period::months_of(*year)),
        _ => {
            v.add(
                "period",
                "PERIOD_INVALID",
                "give a month, or a year from 2000 to 2100",
            );
            None
        }
    };
    let wage = money(
        &mut v,
        "monthly_wage",
        req.monthly_wage.as_ref(),
        MAX_MONTHLY_WAGE_FEN,
    );
    let (request_id, person_id, periods, monthly_wage) =
        accept(v, all_some!(request_id, person_id, periods, wage))?;
    let command = DeclareWage {
        person_id,
        periods,
        monthly_wage,
    };
    Ok((request_id, command))
}

pub fn run_month(req: &pb::RunMonthRequest) -> Result<(RequestId, RunMonth)> {
    bounded(&limits::RUN_MONTH, req)?;
    let mut v = FieldViolations::new();
    let request_id = RequestId::parse(&mut v, &req.request_id);
    let month = period(&mut v, "period", req.period.as_ref());
    let region = platform::error::region_code(&mut v, "region_code", &req.region_code);
    let only = if req.payer_code.is_empty() {
        Some(None)
    } else {
        payer(&mut v, &req.payer_code).map(Some)
    };
    let (request_id, period, region_code, payer) =
        accept(v, all_some!(request_id, month, region, only))?;
    let command = RunMonth {
        period,
        region_code,
        payer,
    };
    Ok((request_id, command))
}
