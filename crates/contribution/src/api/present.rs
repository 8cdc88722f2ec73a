//! Domain values and rows → proto. Which statement lines a caller sees is
//! decided by `domain::access::visible_lines` and applied by the store's
//! query (totals included), so every line given here may be shown.

use chrono::{DateTime, Utc};
use pii::PartnerCode;
use platform::{
    clock::{date, timestamp},
    paging::Page,
};
use socsec_proto::{common::v1 as common, contribution::v1 as pb};
use uuid::Uuid;

use crate::{
    domain::{
        Account, AgencyContract, ArrearsKey, Bill, ContractStatus, Enrolment, EnrolmentChannel,
        InsuranceType, LineKey, Money, Payer, Period, RateTable, Rounding, Scheme,
        payment::{PaymentOrder, paid_on},
    },
    service::{Arrears, RunProgress},
    store::{LineRow, StatementPage},
};

pub fn money(amount: Money) -> Option<common::Money> {
    Some(common::Money { fen: amount.fen() })
}

pub fn period(period: Period) -> common::YearMonth {
    common::YearMonth {
        year: period.year(),
        month: period.month() as i32,
    }
}

pub fn insurance_type(t: InsuranceType) -> pb::InsuranceType {
    match t {
        InsuranceType::OldAge => pb::InsuranceType::OldAge,
        InsuranceType::Medical => pb::InsuranceType::Medical,
        InsuranceType::Unemployment => pb::InsuranceType::Unemployment,
        InsuranceType::WorkInjury => pb::InsuranceType::WorkInjury,
        InsuranceType::Maternity => pb::InsuranceType::Maternity,
    }
}

fn scheme(s: Scheme) -> pb::Scheme {
    match s {
        Scheme::Employee => pb::Scheme::Employee,
        Scheme::Flexible => pb::Scheme::Flexible,
        Scheme::Agency => pb::Scheme::Agency,
    }
}

fn channel(c: EnrolmentChannel) -> pb::EnrolmentChannel {
    match c {
        EnrolmentChannel::Counter => pb::EnrolmentChannel::Counter,
        EnrolmentChannel::Agency => pb::EnrolmentChannel::Agency,
        EnrolmentChannel::Online => pb::EnrolmentChannel::Online,
    }
}

fn account(a: Account) -> pb::Account {
    match a {
        Account::PoolingFund => pb::Account::PoolingFund,
        Account::IndividualAccount => pb::Account::IndividualAccount,
        Account::ServiceFee => pb::Account::ServiceFee,
    }
}

fn rounding(r: Rounding) -> pb::Rounding {
    match r {
        Rounding::HalfUpFen => pb::Rounding::HalfUpFen,
        Rounding::UpJiao => pb::Rounding::UpJiao,
    }
}

/// The enrolments made, and the agency enrolments they took over from.
pub fn enrolments(enrolments: &[Enrolment], superseded: &[Enrolment]) -> pb::EnrolResponse {
    pb::EnrolResponse {
        enrolments: enrolments.iter().map(enrolment).collect(),
        superseded: superseded.iter().map(enrolment).collect(),
    }
}

fn enrolment(e: &Enrolment) -> pb::Enrolment {
    pb::Enrolment {
        enrolment_id: e.enrolment_id.to_string(),
        person_id: e.person_id.to_string(),
        region_code: e.region_code.clone(),
        insurance_type: insurance_type(e.insurance_type) as i32,
        scheme: scheme(e.scheme) as i32,
        employer_code: e
            .employer
            .as_ref()
            .map(|c| c.as_str().to_owned())
            .unwrap_or_default(),
        agency_contract_id: e.contract_id.map(|c| c.to_string()).unwrap_or_default(),
        start: Some(period(e.start)),
        channel: channel(e.channel) as i32,
        end: e.end.map(period),
    }
}

pub fn contract(c: &AgencyContract) -> pb::AgencyContract {
    pb::AgencyContract {
        contract_id: c.contract_id.to_string(),
        agency_code: c.agency.as_str().to_owned(),
        person_id: c.person_id.to_string(),
        monthly_service_fee: money(c.monthly_service_fee),
        start: Some(period(c.start)),
        end: Some(period(c.end)),
        status: contract_status(c.status()) as i32,
        confirmed_at: c.confirmed_at.map(timestamp),
        ended_at: c.ended_at.map(timestamp),
    }
}

fn contract_status(s: ContractStatus) -> pb::AgencyContractStatus {
    match s {
        ContractStatus::Pending => pb::AgencyContractStatus::Pending,
        ContractStatus::Confirmed => pb::AgencyContractStatus::Confirmed,
        ContractStatus::Ended => pb::AgencyContractStatus::Ended,
    }
}

pub fn contracts(
    page: &Page<Uuid>,
    contracts: &[AgencyContract],
) -> pb::ListAgencyContractsResponse {
    let last = contracts.last().map(|c| c.contract_id);
    pb::ListAgencyContractsResponse {
        contracts: contracts.iter().map(contract).collect(),
        page: next_page(page.next_token(contracts.len(), last.as_ref())),
    }
}

pub fn rate_table(t: &RateTable) -> pb::RateTable {
    pb::RateTable {
        region_code: t.region_code.clone(),
        insurance_type: insurance_type(t.insurance_type) as i32,
        year: t.year,
        employer_rate_bp: t.employer_rate_bp,
        employee_rate_bp: t.employee_rate_bp,
        flexible_rate_bp: t.flexible_rate_bp,
        flexible_individual_rate_bp: t.flexible_individual_rate_bp,
        average_monthly_wage: money(t.average_monthly_wage),
        base_floor_percent: t.base_floor_percent,
        base_ceiling_percent: t.base_ceiling_percent,
        rounding: rounding(t.rounding) as i32,
        due_day_of_next_month: t.due_day_of_next_month,
        version: t.version,
    }
}

pub fn bill(b: &Bill) -> pb::Bill {
    pb::Bill {
        payer: b.payer.to_string(),
        period: Some(period(b.period)),
        contributions: money(b.contributions),
        service_fees: money(b.service_fees),
        paid: money(b.paid),
        due_date: Some(date(b.due_date)),
        late_fee: money(b.late_fee),
        outstanding: money(b.outstanding),
    }
}

pub fn run_progress(p: &RunProgress) -> pb::RunMonthProgress {
    pb::RunMonthProgress {
        phase: p.phase.to_owned(),
        enrolments_done: p.enrolments_done,
        enrolments_total: p.enrolments_total,
        entries: p.entries,
        adjustments: p.adjustments,
        done: p.done,
        total: money(p.total),
    }
}

pub fn line(l: &LineRow) -> pb::StatementLine {
    pb::StatementLine {
        period: Some(period(Period::from_date(l.period))),
        insurance_type: l.insurance_type.map_or(0, |t| insurance_type(t) as i32),
        part: l.part.as_str().to_owned(),
        account: account(l.account) as i32,
        payer: l.payer.to_string(),
        base: money(l.base),
        rate_bp: l.rate_bp,
        amount: money(l.amount),
        paid: l.paid,
    }
}

fn next_page(token: String) -> Option<common::PageResponse> {
    Some(common::PageResponse {
        next_page_token: token,
    })
}

pub fn arrears(page: &Page<ArrearsKey>, arrears: &Arrears) -> pb::ListArrearsResponse {
    pb::ListArrearsResponse {
        bills: arrears.bills.iter().map(bill).collect(),
        page: next_page(page.next_token(arrears.scanned, arrears.last.as_ref())),
    }
}

pub fn statement(page: &Page<LineKey>, statement: &StatementPage) -> pb::Statement {
    let last = statement.lines.last().map(|l| l.key());
    pb::Statement {
        page: next_page(page.next_token(statement.lines.len(), last.as_ref())),
        lines: statement.lines.iter().map(line).collect(),
        individual_account_total: money(statement.individual_account_total),
        pooling_fund_total: money(statement.pooling_fund_total),
    }
}

/// A payment order, with the bill it was made from.
pub fn payment_order(o: &PaymentOrder, from: &Bill) -> pb::PaymentOrder {
    pb::PaymentOrder {
        order_id: o.order_id.to_string(),
        payer: o.payer.to_string(),
        period: Some(period(o.period)),
        amount: money(o.amount),
        bill: Some(bill(from)),
        created_at: Some(timestamp(o.created_at)),
        expires_at: Some(timestamp(o.expires_at)),
    }
}

/// What a bank recorded: a payment against an order, under its reference.
pub struct BankPaymentView<'a> {
    pub order_id: uuid::Uuid,
    pub payer: &'a Payer,
    pub period: Period,
    pub amount: Money,
    pub bank: &'a PartnerCode,
    pub reference: &'a str,
    pub paid_at: DateTime<Utc>,
    pub reversed_at: Option<DateTime<Utc>>,
}

/// A bank's payment, with the bill after it (or after its reversal).
pub fn bank_payment(p: &BankPaymentView<'_>, after: &Bill) -> pb::Payment {
    pb::Payment {
        payer: p.payer.to_string(),
        period: Some(period(p.period)),
        amount: money(p.amount),
        paid_on: Some(date(paid_on(p.paid_at))),
        bill: Some(bill(after)),
        order_id: p.order_id.to_string(),
        bank_code: p.bank.as_str().to_owned(),
        bank_reference: p.reference.to_owned(),
        paid_at: Some(timestamp(p.paid_at)),
        reversed_at: p.reversed_at.map(timestamp),
    }
}

/// The events of `WatchContributionEvents`, encoded for the outbox.
pub mod events {
    use platform::mutation::Events;
    use prost::Message;
    use socsec_proto::contribution::v1::{self as pb, contribution_event::Event};

    fn one(event_type: &'static str, event: Event) -> Events {
        let message = pb::ContributionEvent {
            event: Some(event),
            ..Default::default()
        };
        Events::one(event_type, message.encode_to_vec())
    }

    pub fn order_created(order: pb::PaymentOrder) -> Events {
        one("PaymentOrderCreated", Event::PaymentOrderCreated(order))
    }

    pub fn payment_recorded(payment: pb::Payment) -> Events {
        one("PaymentRecorded", Event::PaymentRecorded(payment))
    }

    pub fn payment_reversed(payment: pb::Payment) -> Events {
        one("PaymentReversed", Event::PaymentReversed(payment))
    }
}
