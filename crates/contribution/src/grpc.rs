//! The tonic implementation of `socsec.contribution.v1.ContributionService`.

use std::sync::Arc;

use chrono::NaiveDate;
use platform::{
    all_some,
    audit::{self, Access},
    auth::{Caller, CallerKind},
    clock::{Clock, date},
    error::FieldViolations,
    idempotency::{self, Claim, RequestId},
    paging::Page,
};
use socsec_proto::{
    common::v1::{self as common, PartnerKind},
    contribution::v1 as pb,
};
use sqlx::{PgConnection, PgPool};
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tonic::{Request, Response, Status};
use uuid::Uuid;

use crate::{
    directory::Directory,
    domain::{InsuranceType, Period, Rounding, Scheme, late_fee},
    error::ContributionError,
    store::{self, EnrolmentRow, RateRow},
};

type Result<T, E = ContributionError> = std::result::Result<T, E>;

/// Enrolments computed per statement of the monthly run.
const RUN_CHUNK: i64 = 200_000;
/// A declared monthly wage above this (10 million yuan) is refused as absurd.
const MAX_MONTHLY_WAGE_FEN: i64 = 1_000_000_000;

#[derive(Clone)]
pub struct ContributionApi {
    pool: PgPool,
    clock: Arc<dyn Clock>,
    directory: Directory,
}

fn accept<T>(violations: FieldViolations, parsed: Option<T>) -> Result<T> {
    violations
        .finish(parsed)
        .map_err(ContributionError::Invalid)
}

fn parse_money(
    v: &mut FieldViolations,
    field: &str,
    money: Option<&common::Money>,
    max: i64,
) -> Option<i64> {
    match money.map(|m| m.fen) {
        None => {
            v.add(field, "FIELD_REQUIRED", "is required");
            None
        }
        Some(fen) if fen < 0 => {
            v.add(field, "AMOUNT_NEGATIVE", "must not be negative");
            None
        }
        Some(fen) if fen > max => {
            v.add(field, "AMOUNT_ABSURD", format!("must be at most {max} fen"));
            None
        }
        Some(fen) => Some(fen),
    }
}

/// A payer: `employer:CODE`, `hr_agency:CODE` or `person:<id>`.
fn parse_payer(v: &mut FieldViolations, value: &str) -> Option<String> {
    let valid = match value.split_once(':') {
        Some(("employer" | "hr_agency", code)) => pii::PartnerCode::parse(code).is_ok(),
        Some(("person", id)) => Uuid::parse_str(id).is_ok(),
        _ => false,
    };
    if valid {
        Some(value.to_owned())
    } else {
        v.add(
            "payer",
            "PAYER_INVALID",
            "must be employer:CODE, hr_agency:CODE or person:<id>",
        );
        None
    }
}

fn money(fen: i64) -> Option<common::Money> {
    Some(common::Money { fen })
}

/// A payer may only see and pay its own bills.
/// Whose lines of a statement `caller` sees: an HR agency only what it paid
/// (not the person's employers' or other agencies' lines); everyone else
/// allowed to read the statement sees it whole.
fn visible_payer(caller: &Caller) -> Option<String> {
    caller.is(CallerKind::HrAgency).then(|| caller.to_string())
}

/// The person a bill of `payer` belongs to, when the payer is a person
/// (a flexible worker): `person:<id>`.
fn person_of(payer: &str) -> Option<&str> {
    payer.strip_prefix("person:")
}

fn ensure_payer(caller: &Caller, payer: &str) -> Result<()> {
    match caller.kind {
        CallerKind::Operator => Ok(()),
        _ if caller.to_string() == payer => Ok(()),
        _ => Err(ContributionError::NotOwnRecord),
    }
}

fn rate_to_proto(r: &RateRow) -> pb::RateTable {
    pb::RateTable {
        region_code: r.region_code.clone(),
        insurance_type: InsuranceType::from_db(&r.insurance_type)
            .map_or(0, |t| t.to_proto() as i32),
        year: r.year,
        employer_rate_bp: r.employer_rate_bp,
        employee_rate_bp: r.employee_rate_bp,
        flexible_rate_bp: r.flexible_rate_bp,
        flexible_individual_rate_bp: r.flexible_individual_bp,
        average_monthly_wage: money(r.average_wage_fen),
        base_floor_percent: r.floor_percent,
        base_ceiling_percent: r.ceiling_percent,
        rounding: match Rounding::from_db(&r.rounding) {
            Rounding::HalfUpFen => pb::Rounding::HalfUpFen,
            Rounding::UpJiao => pb::Rounding::UpJiao,
        } as i32,
        due_day_of_next_month: r.due_day_of_next_month,
        version: r.version,
    }
}

fn line_to_proto(l: &store::LineRow) -> pb::StatementLine {
    pb::StatementLine {
        period: Some(Period::from_date(l.period).to_proto()),
        insurance_type: l
            .insurance_type
            .as_deref()
            .and_then(InsuranceType::from_db)
            .map_or(0, |t| t.to_proto() as i32),
        part: l.part.clone(),
        account: match l.account.as_str() {
            "POOLING_FUND" => pb::Account::PoolingFund,
            "INDIVIDUAL_ACCOUNT" => pb::Account::IndividualAccount,
            _ => pb::Account::ServiceFee,
        } as i32,
        payer: l.payer.clone(),
        base: money(l.base_fen),
        rate_bp: l.rate_bp,
        amount: money(l.amount_fen),
        paid: l.paid,
    }
}

impl ContributionApi {
    pub fn new(pool: PgPool, clock: Arc<dyn Clock>, directory: Directory) -> Self {
        Self {
            pool,
            clock,
            directory,
        }
    }

    /// May `caller` read or change `person`'s contribution record?
    async fn ensure_may_act_for(
        &self,
        conn: &mut PgConnection,
        caller: &Caller,
        person: Uuid,
    ) -> Result<()> {
        let allowed = match caller.kind {
            CallerKind::Operator => true,
            CallerKind::Person => caller.code == person.to_string(),
            CallerKind::HrAgency => {
                store::is_agency_client(&mut *conn, &caller.code, person).await?
            }
            CallerKind::Employer => {
                store::is_payer_of(&mut *conn, &caller.to_string(), person).await?
            }
            _ => false,
        };
        if allowed {
            Ok(())
        } else {
            Err(ContributionError::NotOwnRecord)
        }
    }

    async fn enrol(&self, caller: Caller, req: pb::EnrolRequest) -> Result<pb::EnrolResponse> {
        let mut v = FieldViolations::new();
        let request_id = RequestId::parse(&mut v, &req.request_id);
        let person_id = platform::error::uuid(&mut v, "person_id", &req.person_id);
        let region = platform::error::region_code(&mut v, "region_code", &req.region_code);
        let mut types: Vec<InsuranceType> = Vec::new();
        for (i, t) in req.insurance_types.iter().enumerate() {
            match InsuranceType::from_proto(*t) {
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
        let scheme = Scheme::from_proto(req.scheme);
        if scheme.is_none() {
            v.add(
                "scheme",
                "SCHEME_REQUIRED",
                "must be EMPLOYEE, FLEXIBLE or AGENCY",
            );
        }
        match scheme {
            Some(Scheme::Employee) if pii::PartnerCode::parse(&req.employer_code).is_err() => v
                .add(
                    "employer_code",
                    "FIELD_REQUIRED",
                    "an employee is enrolled by their employer's code",
                ),
            Some(Scheme::Agency) if Uuid::parse_str(&req.agency_contract_id).is_err() => v.add(
                "agency_contract_id",
                "FIELD_REQUIRED",
                "an agency enrolment names its contract",
            ),
            _ => {}
        }
        let start = Period::parse(&mut v, "start", req.start.as_ref());
        let (request_id, person_id, region, scheme, start) =
            accept(v, all_some!(request_id, person_id, region, scheme, start))?;
        let channel = match (caller.kind, scheme) {
            (CallerKind::Operator, _) => "COUNTER",
            (CallerKind::HrAgency, Scheme::Agency) => "AGENCY",
            (CallerKind::Person, Scheme::Flexible) if caller.code == req.person_id => "ONLINE",
            _ => return Err(ContributionError::NotOwnRecord),
        };

        let mut tx = self.pool.begin().await?;
        let ticket = match idempotency::claim(&mut tx, &caller, "Enrol", &request_id, &req).await? {
            Claim::Replay(answer) => return Ok(answer),
            Claim::Fresh(ticket) => ticket,
        };
        self.directory
            .ensure_registered(&req.person_id, &caller, request_id.as_str())
            .await?;
        if !store::region_known(&mut *tx, &region).await? {
            return Err(ContributionError::RegionUnknown);
        }
        let (payer, employer, contract) = match scheme {
            Scheme::Employee => {
                self.directory
                    .ensure_partner(&req.employer_code, PartnerKind::Employer)
                    .await?;
                (
                    format!("employer:{}", req.employer_code),
                    Some(req.employer_code.clone()),
                    None,
                )
            }
            Scheme::Flexible => (format!("person:{person_id}"), None, None),
            Scheme::Agency => {
                let id = Uuid::parse_str(&req.agency_contract_id).expect("validated");
                let contract = store::contract(&mut *tx, id)
                    .await?
                    .ok_or(ContributionError::ContractNotFound)?;
                let covers = contract.person_id == person_id
                    && contract.start_period <= start.first_day()
                    && contract
                        .end_period
                        .is_none_or(|end| end >= start.first_day())
                    && (caller.kind != CallerKind::HrAgency || contract.agency_code == caller.code);
                if !covers {
                    return Err(ContributionError::ContractMismatch);
                }
                (
                    format!("hr_agency:{}", contract.agency_code),
                    None,
                    Some(id),
                )
            }
        };
        store::lock_person(&mut tx, person_id).await?;
        let names: Vec<&str> = types.iter().map(|t| t.as_str()).collect();
        if let Some(taken) =
            store::overlapping_types(&mut *tx, person_id, &names, start.first_day())
                .await?
                .pop()
        {
            return Err(ContributionError::EnrolmentOverlaps {
                insurance_type: taken,
            });
        }
        let rows: Vec<EnrolmentRow> = types
            .iter()
            .map(|t| EnrolmentRow {
                enrolment_id: Uuid::now_v7(),
                person_id,
                region_code: region.clone(),
                insurance_type: t.as_str().to_owned(),
                scheme: scheme.as_str().to_owned(),
                employer_code: employer.clone(),
                contract_id: contract,
                payer: payer.clone(),
                start_period: start.first_day(),
                channel: channel.to_owned(),
            })
            .collect();
        store::insert_enrolments(&mut tx, &rows, self.clock.now()).await?;
        audit::record(
            &mut tx,
            &caller,
            "Enrol",
            Access::Change,
            &req.person_id,
            Some(request_id.as_str()),
        )
        .await?;
        let answer = pb::EnrolResponse {
            enrolments: rows
                .iter()
                .zip(&types)
                .map(|(r, t)| pb::Enrolment {
                    enrolment_id: r.enrolment_id.to_string(),
                    person_id: r.person_id.to_string(),
                    region_code: r.region_code.clone(),
                    insurance_type: t.to_proto() as i32,
                    scheme: scheme.to_proto() as i32,
                    employer_code: r.employer_code.clone().unwrap_or_default(),
                    agency_contract_id: r.contract_id.map(|c| c.to_string()).unwrap_or_default(),
                    start: Some(start.to_proto()),
                    channel: match channel {
                        "COUNTER" => pb::EnrolmentChannel::Counter,
                        "AGENCY" => pb::EnrolmentChannel::Agency,
                        _ => pb::EnrolmentChannel::Online,
                    } as i32,
                })
                .collect(),
        };
        ticket.complete(&mut tx, &answer).await?;
        tx.commit().await?;
        tracing::info!(person_id = %req.person_id, scheme = scheme.as_str(), types = types.len(), channel, "enrolled");
        Ok(answer)
    }

    async fn register_contract(
        &self,
        caller: Caller,
        req: pb::RegisterAgencyContractRequest,
    ) -> Result<pb::AgencyContract> {
        let mut v = FieldViolations::new();
        let request_id = RequestId::parse(&mut v, &req.request_id);
        let agency = v.check("agency_code", pii::PartnerCode::parse(&req.agency_code));
        let person_id = platform::error::uuid(&mut v, "person_id", &req.person_id);
        let fee = parse_money(
            &mut v,
            "monthly_service_fee",
            req.monthly_service_fee.as_ref(),
            10_000_000,
        );
        let start = Period::parse(&mut v, "start", req.start.as_ref());
        let end = match &req.end {
            None => Some(None),
            Some(end) => Period::parse(&mut v, "end", Some(end)).map(Some),
        };
        if let (Some(start), Some(Some(end))) = (start, end)
            && end < start
        {
            v.add("end", "END_BEFORE_START", "must not be before the start");
        }
        let (request_id, agency, person_id, fee, start, end) =
            accept(v, all_some!(request_id, agency, person_id, fee, start, end))?;
        if caller.is(CallerKind::HrAgency) && caller.code != agency.as_str() {
            return Err(ContributionError::NotOwnRecord);
        }
        let mut tx = self.pool.begin().await?;
        let ticket = match idempotency::claim(
            &mut tx,
            &caller,
            "RegisterAgencyContract",
            &request_id,
            &req,
        )
        .await?
        {
            Claim::Replay(answer) => return Ok(answer),
            Claim::Fresh(ticket) => ticket,
        };
        self.directory
            .ensure_registered(&req.person_id, &caller, request_id.as_str())
            .await?;
        self.directory
            .ensure_partner(agency.as_str(), PartnerKind::HrAgency)
            .await?;
        let row = store::ContractRow {
            contract_id: Uuid::now_v7(),
            agency_code: agency.as_str().to_owned(),
            person_id,
            service_fee_fen: fee,
            start_period: start.first_day(),
            end_period: end.map(Period::first_day),
        };
        store::insert_contract(&mut tx, &row, self.clock.now()).await?;
        audit::record(
            &mut tx,
            &caller,
            "RegisterAgencyContract",
            Access::Change,
            &req.person_id,
            Some(request_id.as_str()),
        )
        .await?;
        let answer = pb::AgencyContract {
            contract_id: row.contract_id.to_string(),
            agency_code: row.agency_code,
            person_id: req.person_id.clone(),
            monthly_service_fee: money(fee),
            start: Some(start.to_proto()),
            end: end.map(Period::to_proto),
        };
        ticket.complete(&mut tx, &answer).await?;
        tx.commit().await?;
        Ok(answer)
    }

    async fn set_rate_table(
        &self,
        caller: Caller,
        req: pb::SetRateTableRequest,
    ) -> Result<pb::RateTable> {
        let mut v = FieldViolations::new();
        let request_id = RequestId::parse(&mut v, &req.request_id);
        let t = req.table.clone().unwrap_or_default();
        let region = platform::error::region_code(&mut v, "table.region_code", &t.region_code);
        let insurance_type = InsuranceType::from_proto(t.insurance_type);
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
        let wage = parse_money(
            &mut v,
            "table.average_monthly_wage",
            t.average_monthly_wage.as_ref(),
            MAX_MONTHLY_WAGE_FEN,
        );
        if wage == Some(0) {
            v.add(
                "table.average_monthly_wage",
                "AMOUNT_INVALID",
                "must be positive",
            );
        }
        let (floor, ceiling) = match (t.base_floor_percent, t.base_ceiling_percent) {
            (0, 0) => (60, 300),
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
        let (request_id, region, insurance_type, wage) =
            accept(v, all_some!(request_id, region, insurance_type, wage))?;
        let mut tx = self.pool.begin().await?;
        let ticket =
            match idempotency::claim(&mut tx, &caller, "SetRateTable", &request_id, &req).await? {
                Claim::Replay(answer) => return Ok(answer),
                Claim::Fresh(ticket) => ticket,
            };
        let row = store::insert_rate_table(
            &mut tx,
            &RateRow {
                region_code: region,
                insurance_type: insurance_type.as_str().to_owned(),
                year: t.year,
                version: 0,
                employer_rate_bp: t.employer_rate_bp,
                employee_rate_bp: t.employee_rate_bp,
                flexible_rate_bp: t.flexible_rate_bp,
                flexible_individual_bp: t.flexible_individual_rate_bp,
                average_wage_fen: wage,
                floor_percent: floor,
                ceiling_percent: ceiling,
                rounding: rounding.as_str().to_owned(),
                due_day_of_next_month: t.due_day_of_next_month,
            },
            self.clock.now(),
        )
        .await?;
        let answer = rate_to_proto(&row);
        ticket.complete(&mut tx, &answer).await?;
        tx.commit().await?;
        tracing::info!(region = %row.region_code, insurance_type = %row.insurance_type, year = row.year, version = row.version, by = %caller, "rate table set");
        Ok(answer)
    }

    async fn get_rate_table(&self, req: pb::GetRateTableRequest) -> Result<pb::RateTable> {
        let mut v = FieldViolations::new();
        let region = platform::error::region_code(&mut v, "region_code", &req.region_code);
        let insurance_type = InsuranceType::from_proto(req.insurance_type);
        if insurance_type.is_none() {
            v.add(
                "insurance_type",
                "INSURANCE_TYPE_INVALID",
                "is not an insurance type",
            );
        }
        let (region, insurance_type) = accept(v, all_some!(region, insurance_type))?;
        store::latest_rate_table(&self.pool, &region, insurance_type.as_str(), req.year)
            .await?
            .map(|r| rate_to_proto(&r))
            .ok_or(ContributionError::RegionUnknown)
    }

    async fn declare_wage(
        &self,
        caller: Caller,
        req: pb::DeclareWageRequest,
    ) -> Result<pb::DeclareWageResponse> {
        use pb::declare_wage_request::Period as Which;
        let mut v = FieldViolations::new();
        let request_id = RequestId::parse(&mut v, &req.request_id);
        let person_id = platform::error::uuid(&mut v, "person_id", &req.person_id);
        let periods: Option<Vec<Period>> = match &req.period {
            Some(Which::Month(month)) => {
                Period::parse(&mut v, "month", Some(month)).map(|p| vec![p])
            }
            Some(Which::Year(year)) if (2000..=2100).contains(year) => {
                let january =
                    Period::from_date(NaiveDate::from_ymd_opt(*year, 1, 1).expect("valid"));
                Some(
                    std::iter::successors(Some(january), |p| Some(p.next()))
                        .take(12)
                        .collect(),
                )
            }
            _ => {
                v.add(
                    "period",
                    "PERIOD_INVALID",
                    "give a month, or a year from 2000 to 2100",
                );
                None
            }
        };
        let wage = parse_money(
            &mut v,
            "monthly_wage",
            req.monthly_wage.as_ref(),
            MAX_MONTHLY_WAGE_FEN,
        );
        let (request_id, person_id, periods, wage) =
            accept(v, all_some!(request_id, person_id, periods, wage))?;

        let mut tx = self.pool.begin().await?;
        let ticket =
            match idempotency::claim(&mut tx, &caller, "DeclareWage", &request_id, &req).await? {
                Claim::Replay(answer) => return Ok(answer),
                Claim::Fresh(ticket) => ticket,
            };
        self.ensure_may_act_for(&mut tx, &caller, person_id).await?;
        let first = store::first_enrolment_start(&mut *tx, person_id).await?;
        if first.is_none_or(|first| periods[0].first_day() < first) {
            return Err(ContributionError::PeriodBeforeEnrolment);
        }
        let days: Vec<NaiveDate> = periods.iter().map(|p| p.first_day()).collect();
        // A wage is declared by whoever pays for those months (the employer,
        // the agency, the flexible worker), or an operator: a former
        // employer cannot change this year's base.
        if !caller.is(CallerKind::Operator)
            && !store::payer_covers(&mut *tx, &caller.to_string(), person_id, &days).await?
        {
            return Err(ContributionError::NotPayerForPeriod);
        }
        let corrected = store::declare_wages(
            &mut tx,
            person_id,
            &days,
            wage,
            &caller.to_string(),
            self.clock.now(),
            request_id.as_str(),
        )
        .await?;
        audit::record(
            &mut tx,
            &caller,
            "DeclareWage",
            Access::Change,
            &req.person_id,
            Some(request_id.as_str()),
        )
        .await?;
        let answer = pb::DeclareWageResponse {
            months: periods.len() as i32,
            corrected,
        };
        ticket.complete(&mut tx, &answer).await?;
        tx.commit().await?;
        Ok(answer)
    }

    async fn run_month(
        &self,
        caller: Caller,
        req: pb::RunMonthRequest,
    ) -> Result<ReceiverStream<Result<pb::RunMonthProgress, Status>>> {
        let mut v = FieldViolations::new();
        let request_id = RequestId::parse(&mut v, &req.request_id);
        let period = Period::parse(&mut v, "period", req.period.as_ref());
        let region = platform::error::region_code(&mut v, "region_code", &req.region_code);
        let payer = if req.payer_code.is_empty() {
            Some(None)
        } else {
            parse_payer(&mut v, &req.payer_code).map(Some)
        };
        let (request_id, period, region, payer) =
            accept(v, all_some!(request_id, period, region, payer))?;
        let (sender, receiver) = mpsc::channel(16);
        let api = self.clone();
        tokio::spawn(async move {
            let outcome = api
                .run(
                    &caller,
                    &req,
                    &request_id,
                    period,
                    &region,
                    payer.as_deref(),
                    &sender,
                )
                .await;
            if let Err(e) = outcome {
                let _ = sender.send(Err(Status::from(e))).await;
            }
        });
        Ok(ReceiverStream::new(receiver))
    }

    #[allow(clippy::too_many_arguments)]
    async fn run(
        &self,
        caller: &Caller,
        req: &pb::RunMonthRequest,
        request_id: &RequestId,
        period: Period,
        region: &str,
        payer: Option<&str>,
        progress: &mpsc::Sender<Result<pb::RunMonthProgress, Status>>,
    ) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        let ticket = match idempotency::claim(&mut tx, caller, "RunMonth", request_id, req).await? {
            Claim::Replay(answer) => {
                let _ = progress.send(Ok(answer)).await;
                return Ok(());
            }
            Claim::Fresh(ticket) => ticket,
        };
        let month = period.first_day();
        store::begin_run(&mut tx, region, month).await?;
        store::pin_rates(&mut tx, region, month, period.year()).await?;
        if let Some(missing) = store::type_without_rates(&mut tx, region, month, payer).await? {
            return Err(ContributionError::RateTableMissing {
                insurance_type: missing,
                year: period.year(),
            });
        }
        let (bounds, total) = store::chunk_bounds(&mut tx, region, month, payer, RUN_CHUNK).await?;
        let mut state = pb::RunMonthProgress {
            phase: "contributions".into(),
            enrolments_total: total,
            total: money(0),
            ..Default::default()
        };
        let _ = progress.send(Ok(state.clone())).await;
        let now = self.clock.now();
        let mut after = None;
        for (i, upto) in bounds.iter().enumerate() {
            let written = store::run_chunk(
                &mut tx,
                region,
                month,
                payer,
                after,
                *upto,
                request_id.as_str(),
                now,
            )
            .await?;
            after = Some(*upto);
            state.entries += written.entries;
            state.adjustments += written.adjustments;
            state.total = money(state.total.map_or(0, |m| m.fen) + written.total_fen);
            state.enrolments_done = if i + 1 == bounds.len() {
                total
            } else {
                total * (i as i64 + 1) / bounds.len() as i64
            };
            if progress.send(Ok(state.clone())).await.is_err() {
                tracing::info!(region, %period, "caller went away; run rolled back");
                return Ok(());
            }
        }
        let fees =
            store::book_service_fees(&mut tx, region, month, payer, request_id.as_str(), now)
                .await?;
        state.phase = "done".into();
        state.entries += fees.entries;
        state.total = money(state.total.map_or(0, |m| m.fen) + fees.total_fen);
        state.done = true;
        ticket.complete(&mut tx, &state).await?;
        tx.commit().await?;
        tracing::info!(region, %period, entries = state.entries, adjustments = state.adjustments, "month run");
        let _ = progress.send(Ok(state)).await;
        Ok(())
    }

    /// The bill of `payer` for `period`, with the late fee as of `as_of`.
    async fn bill(
        &self,
        conn: &mut PgConnection,
        payer: &str,
        period: Period,
        as_of: NaiveDate,
    ) -> Result<pb::Bill> {
        let sums = store::bill_sums(&mut *conn, payer, period.first_day()).await?;
        let region = sums.region_code.ok_or(ContributionError::BillNotFound)?;
        let (rounding, due_day) = store::bill_terms(&mut *conn, &region, period.year())
            .await?
            .ok_or(ContributionError::RegionUnknown)?;
        let payments = store::payments(&mut *conn, payer, period.first_day()).await?;
        let due = period.due_date(due_day as u32);
        let fee = late_fee(
            sums.contributions_fen,
            due,
            &payments,
            as_of,
            Rounding::from_db(&rounding),
        );
        let paid: i64 = payments
            .iter()
            .filter(|(on, _)| *on <= as_of)
            .map(|(_, a)| a)
            .sum();
        Ok(pb::Bill {
            payer: payer.to_owned(),
            period: Some(period.to_proto()),
            contributions: money(sums.contributions_fen),
            service_fees: money(sums.fees_fen),
            paid: money(paid),
            due_date: Some(date(due)),
            late_fee: money(fee),
            outstanding: money(sums.contributions_fen + sums.fees_fen + fee - paid),
        })
    }

    fn as_of(
        &self,
        v: &mut FieldViolations,
        value: Option<&common::Date>,
        field: &str,
    ) -> Option<NaiveDate> {
        match value {
            None => Some(self.clock.today()),
            Some(d) => {
                let parsed = NaiveDate::from_ymd_opt(d.year, d.month as u32, d.day as u32);
                if parsed.is_none() {
                    v.add(field, "DATE_INVALID", "is not a date");
                }
                parsed
            }
        }
    }

    async fn get_bill(&self, caller: Caller, req: pb::GetBillRequest) -> Result<pb::Bill> {
        let mut v = FieldViolations::new();
        let payer = if req.payer.is_empty() && !caller.is(CallerKind::Operator) {
            Some(caller.to_string())
        } else {
            parse_payer(&mut v, &req.payer)
        };
        let period = Period::parse(&mut v, "period", req.period.as_ref());
        let as_of = self.as_of(&mut v, req.as_of.as_ref(), "as_of");
        let (payer, period, as_of) = accept(v, all_some!(payer, period, as_of))?;
        ensure_payer(&caller, &payer)?;
        let mut conn = self.pool.acquire().await?;
        if let Some(person) = person_of(&payer) {
            audit::record(&mut conn, &caller, "GetBill", Access::Read, person, None).await?;
        }
        self.bill(&mut conn, &payer, period, as_of).await
    }

    async fn record_payment(
        &self,
        caller: Caller,
        req: pb::RecordPaymentRequest,
    ) -> Result<pb::Payment> {
        let mut v = FieldViolations::new();
        let request_id = RequestId::parse(&mut v, &req.request_id);
        let payer = parse_payer(&mut v, &req.payer);
        let period = Period::parse(&mut v, "period", req.period.as_ref());
        let amount = parse_money(&mut v, "amount", req.amount.as_ref(), i64::MAX / 4);
        if amount == Some(0) {
            v.add("amount", "AMOUNT_INVALID", "must be positive");
        }
        let paid_on = self.as_of(&mut v, req.paid_on.as_ref(), "paid_on");
        let (request_id, payer, period, amount, paid_on) =
            accept(v, all_some!(request_id, payer, period, amount, paid_on))?;
        ensure_payer(&caller, &payer)?;

        let mut tx = self.pool.begin().await?;
        let ticket =
            match idempotency::claim(&mut tx, &caller, "RecordPayment", &request_id, &req).await? {
                Claim::Replay(answer) => return Ok(answer),
                Claim::Fresh(ticket) => ticket,
            };
        store::lock_bill(&mut tx, &payer, period.first_day()).await?;
        let before = self.bill(&mut tx, &payer, period, paid_on).await?;
        let outstanding = before.outstanding.map_or(0, |m| m.fen);
        if amount > outstanding {
            return Err(ContributionError::PaymentExceedsOwed { outstanding });
        }
        store::insert_payment(
            &mut tx,
            &payer,
            period.first_day(),
            amount,
            paid_on,
            request_id.as_str(),
            self.clock.now(),
        )
        .await?;
        let after = self.bill(&mut tx, &payer, period, paid_on).await?;
        if let Some(person) = person_of(&payer) {
            audit::record(
                &mut tx,
                &caller,
                "RecordPayment",
                Access::Change,
                person,
                Some(request_id.as_str()),
            )
            .await?;
        }
        let answer = pb::Payment {
            payer: payer.clone(),
            period: Some(period.to_proto()),
            amount: money(amount),
            paid_on: Some(date(paid_on)),
            bill: Some(after),
        };
        ticket.complete(&mut tx, &answer).await?;
        tx.commit().await?;
        tracing::info!(payer = %payer, %period, amount_fen = amount, "payment recorded");
        Ok(answer)
    }

    async fn list_arrears(
        &self,
        caller: Caller,
        req: pb::ListArrearsRequest,
    ) -> Result<pb::ListArrearsResponse> {
        let mut v = FieldViolations::new();
        let region = platform::error::region_code(&mut v, "region_code", &req.region_code);
        let as_of = self.as_of(&mut v, req.as_of.as_ref(), "as_of");
        let page_request = req.page.unwrap_or_default();
        let page = Page::parse(
            &mut v,
            "page",
            page_request.page_size,
            &page_request.page_token,
        );
        let after = match page.as_ref().and_then(|p| p.after.as_deref()) {
            None => Some(None),
            Some(token) => {
                let parsed = token.rsplit_once('|').and_then(|(payer, day)| {
                    Some((
                        payer.to_owned(),
                        NaiveDate::parse_from_str(day, "%Y-%m-%d").ok()?,
                    ))
                });
                if parsed.is_none() {
                    v.add(
                        "page.page_token",
                        "PAGE_TOKEN_INVALID",
                        "is not a token this service issued",
                    );
                }
                parsed.map(Some)
            }
        };
        let (region, as_of, page, after) = accept(v, all_some!(region, as_of, page, after))?;
        let mut conn = self.pool.acquire().await?;
        let candidates = store::unpaid_bills(&mut *conn, &region, as_of, after, page.size).await?;
        let last = candidates
            .last()
            .map(|(payer, period)| format!("{payer}|{period}"));
        let mut bills = Vec::new();
        for (payer, month) in &candidates {
            let bill = self
                .bill(&mut conn, payer, Period::from_date(*month), as_of)
                .await?;
            let overdue = bill
                .due_date
                .as_ref()
                .and_then(|d| NaiveDate::from_ymd_opt(d.year, d.month as u32, d.day as u32))
                .is_some_and(|due| due < as_of);
            if overdue && bill.outstanding.as_ref().is_some_and(|o| o.fen > 0) {
                bills.push(bill);
            }
        }
        let persons: Vec<String> = bills
            .iter()
            .filter_map(|b| person_of(&b.payer).map(str::to_owned))
            .collect();
        audit::record_many(
            &mut conn,
            &caller,
            "ListArrears",
            Access::Read,
            &persons,
            None,
        )
        .await?;
        Ok(pb::ListArrearsResponse {
            bills,
            page: Some(common::PageResponse {
                next_page_token: page.next_token(candidates.len(), last.as_deref()),
            }),
        })
    }

    fn parse_range(
        v: &mut FieldViolations,
        person: &str,
        from: Option<&common::YearMonth>,
        to: Option<&common::YearMonth>,
    ) -> Option<(Uuid, Period, Period)> {
        let person_id = platform::error::uuid(v, "person_id", person);
        let from = Period::parse(v, "from", from);
        let to = Period::parse(v, "to", to);
        if let (Some(f), Some(t)) = (from, to)
            && t < f
        {
            v.add("to", "RANGE_INVALID", "must not be before `from`");
        }
        all_some!(person_id, from, to)
    }

    async fn statement(
        &self,
        caller: Caller,
        req: pb::GetStatementRequest,
    ) -> Result<pb::Statement> {
        let mut v = FieldViolations::new();
        let range = Self::parse_range(&mut v, &req.person_id, req.from.as_ref(), req.to.as_ref());
        let page_request = req.page.unwrap_or_default();
        let page = Page::parse(
            &mut v,
            "page",
            page_request.page_size,
            &page_request.page_token,
        );
        let after = match page.as_ref().and_then(|p| p.after.as_deref()) {
            None => Some(None),
            Some(token) => {
                let mut parts = token.splitn(3, '|');
                let parsed = (|| {
                    let day = NaiveDate::parse_from_str(parts.next()?, "%Y-%m-%d").ok()?;
                    Some((day, parts.next()?.to_owned(), parts.next()?.to_owned()))
                })();
                if parsed.is_none() {
                    v.add(
                        "page.page_token",
                        "PAGE_TOKEN_INVALID",
                        "is not a token this service issued",
                    );
                }
                parsed.map(Some)
            }
        };
        let ((person_id, from, to), page, after) = accept(v, all_some!(range, page, after))?;
        let mut tx = self.pool.begin().await?;
        self.ensure_may_act_for(&mut tx, &caller, person_id).await?;
        let payer = visible_payer(&caller);
        let lines = store::statement_lines(
            &mut *tx,
            person_id,
            from.first_day(),
            to.first_day(),
            payer.as_deref(),
            after,
            page.size,
        )
        .await?;
        let (individual, pooling) = store::statement_totals(
            &mut *tx,
            person_id,
            from.first_day(),
            to.first_day(),
            payer.as_deref(),
        )
        .await?;
        audit::record(
            &mut tx,
            &caller,
            "GetStatement",
            Access::Read,
            &req.person_id,
            None,
        )
        .await?;
        tx.commit().await?;
        let last = lines.last().map(|l| {
            format!(
                "{}|{}|{}",
                l.period,
                l.insurance_type.clone().unwrap_or_default(),
                l.part
            )
        });
        Ok(pb::Statement {
            page: Some(common::PageResponse {
                next_page_token: page.next_token(lines.len(), last.as_deref()),
            }),
            lines: lines.iter().map(line_to_proto).collect(),
            individual_account_total: money(individual),
            pooling_fund_total: money(pooling),
        })
    }

    async fn stream_statement(
        &self,
        caller: Caller,
        req: pb::StreamStatementRequest,
    ) -> Result<ReceiverStream<Result<pb::StatementLine, Status>>> {
        let mut v = FieldViolations::new();
        let range = Self::parse_range(&mut v, &req.person_id, req.from.as_ref(), req.to.as_ref());
        let (person_id, from, to) = accept(v, range)?;
        let mut tx = self.pool.begin().await?;
        self.ensure_may_act_for(&mut tx, &caller, person_id).await?;
        audit::record(
            &mut tx,
            &caller,
            "StreamStatement",
            Access::Read,
            &req.person_id,
            None,
        )
        .await?;
        tx.commit().await?;
        let (sender, receiver) = mpsc::channel(64);
        let pool = self.pool.clone();
        let payer = visible_payer(&caller);
        tokio::spawn(async move {
            let mut after = None;
            loop {
                let lines = match store::statement_lines(
                    &pool,
                    person_id,
                    from.first_day(),
                    to.first_day(),
                    payer.as_deref(),
                    after.clone(),
                    500,
                )
                .await
                {
                    Ok(lines) => lines,
                    Err(e) => {
                        let _ = sender
                            .send(Err(Status::from(ContributionError::Database(e))))
                            .await;
                        return;
                    }
                };
                let full = lines.len() == 500;
                after = lines.last().map(|l| {
                    (
                        l.period,
                        l.insurance_type.clone().unwrap_or_default(),
                        l.part.clone(),
                    )
                });
                for line in &lines {
                    if sender.send(Ok(line_to_proto(line))).await.is_err() {
                        return;
                    }
                }
                if !full {
                    return;
                }
            }
        });
        Ok(ReceiverStream::new(receiver))
    }
}

use platform::error::respond;

#[tonic::async_trait]
impl pb::contribution_service_server::ContributionService for ContributionApi {
    async fn enrol(
        &self,
        request: Request<pb::EnrolRequest>,
    ) -> Result<Response<pb::EnrolResponse>, Status> {
        let caller = Caller::of(&request)?;
        respond(self.enrol(caller, request.into_inner()).await)
    }

    async fn register_agency_contract(
        &self,
        request: Request<pb::RegisterAgencyContractRequest>,
    ) -> Result<Response<pb::AgencyContract>, Status> {
        let caller = Caller::of(&request)?;
        respond(self.register_contract(caller, request.into_inner()).await)
    }

    async fn set_rate_table(
        &self,
        request: Request<pb::SetRateTableRequest>,
    ) -> Result<Response<pb::RateTable>, Status> {
        let caller = Caller::of(&request)?;
        respond(self.set_rate_table(caller, request.into_inner()).await)
    }

    async fn get_rate_table(
        &self,
        request: Request<pb::GetRateTableRequest>,
    ) -> Result<Response<pb::RateTable>, Status> {
        respond(self.get_rate_table(request.into_inner()).await)
    }

    async fn declare_wage(
        &self,
        request: Request<pb::DeclareWageRequest>,
    ) -> Result<Response<pb::DeclareWageResponse>, Status> {
        let caller = Caller::of(&request)?;
        respond(self.declare_wage(caller, request.into_inner()).await)
    }

    type RunMonthStream = ReceiverStream<Result<pb::RunMonthProgress, Status>>;

    async fn run_month(
        &self,
        request: Request<pb::RunMonthRequest>,
    ) -> Result<Response<Self::RunMonthStream>, Status> {
        let caller = Caller::of(&request)?;
        respond(self.run_month(caller, request.into_inner()).await)
    }

    async fn get_bill(
        &self,
        request: Request<pb::GetBillRequest>,
    ) -> Result<Response<pb::Bill>, Status> {
        let caller = Caller::of(&request)?;
        respond(self.get_bill(caller, request.into_inner()).await)
    }

    async fn record_payment(
        &self,
        request: Request<pb::RecordPaymentRequest>,
    ) -> Result<Response<pb::Payment>, Status> {
        let caller = Caller::of(&request)?;
        respond(self.record_payment(caller, request.into_inner()).await)
    }

    async fn list_arrears(
        &self,
        request: Request<pb::ListArrearsRequest>,
    ) -> Result<Response<pb::ListArrearsResponse>, Status> {
        let caller = Caller::of(&request)?;
        respond(self.list_arrears(caller, request.into_inner()).await)
    }

    async fn get_statement(
        &self,
        request: Request<pb::GetStatementRequest>,
    ) -> Result<Response<pb::Statement>, Status> {
        let caller = Caller::of(&request)?;
        respond(self.statement(caller, request.into_inner()).await)
    }

    type StreamStatementStream = ReceiverStream<Result<pb::StatementLine, Status>>;

    async fn stream_statement(
        &self,
        request: Request<pb::StreamStatementRequest>,
    ) -> Result<Response<Self::StreamStatementStream>, Status> {
        let caller = Caller::of(&request)?;
        respond(self.stream_statement(caller, request.into_inner()).await)
    }
}
