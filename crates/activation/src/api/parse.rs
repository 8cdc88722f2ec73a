//! Requests into domain commands: the request's size checked against its
//! limits (`limits`) before anything else, then every bad field reported at
//! once (`INVALID_ARGUMENT` with a `BadRequest`).

pub mod limits;

use chrono::NaiveDate;
use pii::{BankCardNumber, CardIdentificationCode, CardNumber, IdNumber, PersonName, SerialNumber};
use platform::{
    all_some,
    error::{FieldViolations, region_code, required},
    idempotency::RequestId,
    limits::Limits,
    paging::Page,
};
use socsec_proto::activation::v1 as pb;

use crate::{
    domain::{
        Consequence, RegionPolicy, Window,
        command::{
            ApproachingDeadlines, AtBankOutlet, AtHospital, AtPharmacy, ByHotline,
            EligibilityQuery, SetRegionPolicy, ShownCard, WithFinancialFunction,
        },
    },
    error::ActivationError,
};

type Result<T> = std::result::Result<T, ActivationError>;

/// The parsed request, or `INVALID_ARGUMENT` with every bad field.
fn accept<T>(violations: FieldViolations, parsed: Option<T>) -> Result<T> {
    violations.finish(parsed).map_err(ActivationError::Invalid)
}

/// The card identification code presented with a card: `Some(None)` when
/// it is missing (the card is then not found, as for a number that does not
/// exist: the service decides, so that an answer never depends on which of
/// the two was wrong), `None` (a violation) when it is malformed.
fn presented_code(
    v: &mut FieldViolations,
    field: &str,
    value: &str,
) -> Option<Option<CardIdentificationCode>> {
    if value.is_empty() {
        Some(None)
    } else {
        v.check(field, CardIdentificationCode::parse(value))
            .map(Some)
    }
}

/// `Ok` if `req` is within `limits`; checked before anything else is read.
fn bounded<M>(limits: &Limits<M>, req: &M) -> Result<()> {
    limits.check(req).map_err(ActivationError::Invalid)
}

pub fn at_bank_outlet(
    req: &pb::ActivateAtBankOutletRequest,
    today: NaiveDate,
) -> Result<AtBankOutlet> {
    bounded(&limits::ACTIVATE_AT_BANK_OUTLET, req)?;
    let mut v = FieldViolations::new();
    let request_id = RequestId::parse(&mut v, &req.request_id);
    let operator = required(&mut v, "operator_id", &req.operator_id);
    let number = v.check("card_number", CardNumber::parse(&req.card_number));
    let code = presented_code(
        &mut v,
        "card_identification_code",
        &req.card_identification_code,
    );
    let id_number = v.check("id_number", IdNumber::parse(&req.id_number, today));
    let (request_id, operator, card_number, identification_code, id_number) =
        accept(v, all_some!(request_id, operator, number, code, id_number))?;
    Ok(AtBankOutlet {
        request_id,
        operator_id: operator.to_owned(),
        card_number,
        identification_code,
        id_number,
    })
}

/// The card shown: the e-card token when one is sent (and then no card
/// number or code), else the card number and its identification code.
fn shown_card(
    v: &mut FieldViolations,
    card_number: &str,
    card_identification_code: &str,
    ecard_token: &str,
) -> Option<ShownCard> {
    if !ecard_token.is_empty() {
        if !card_number.is_empty() || !card_identification_code.is_empty() {
            v.add(
                "ecard_token",
                "ECARD_TOKEN_WITH_CARD",
                "send the e-card token or the card number and identification code, not both",
            );
            return None;
        }
        return Some(ShownCard::Ecard(ecard_token.to_owned()));
    }
    let number = v.check("card_number", CardNumber::parse(card_number));
    let code = presented_code(v, "card_identification_code", card_identification_code);
    let (number, identification_code) = all_some!(number, code)?;
    Some(ShownCard::Chip {
        number,
        identification_code,
    })
}

pub fn at_hospital(req: &pb::ActivateAtHospitalRequest) -> Result<AtHospital> {
    bounded(&limits::ACTIVATE_AT_HOSPITAL, req)?;
    let mut v = FieldViolations::new();
    let request_id = RequestId::parse(&mut v, &req.request_id);
    let operator = required(&mut v, "operator_id", &req.operator_id);
    let card = shown_card(
        &mut v,
        &req.card_number,
        &req.card_identification_code,
        &req.ecard_token,
    );
    let visit = match pb::VisitType::try_from(req.visit_type) {
        Ok(pb::VisitType::Outpatient | pb::VisitType::Inpatient) => Some(()),
        _ => {
            v.add(
                "visit_type",
                "VISIT_TYPE_REQUIRED",
                "must be OUTPATIENT or INPATIENT",
            );
            None
        }
    };
    let (request_id, operator, card, _) = accept(v, all_some!(request_id, operator, card, visit))?;
    Ok(AtHospital {
        request_id,
        operator_id: operator.to_owned(),
        card,
    })
}

pub fn at_pharmacy(req: &pb::ActivateAtPharmacyRequest) -> Result<AtPharmacy> {
    bounded(&limits::ACTIVATE_AT_PHARMACY, req)?;
    let mut v = FieldViolations::new();
    let request_id = RequestId::parse(&mut v, &req.request_id);
    let operator = required(&mut v, "operator_id", &req.operator_id);
    let legacy = required(&mut v, "legacy_card_number", &req.legacy_card_number)
        .map(str::to_ascii_uppercase);
    let card = shown_card(
        &mut v,
        &req.card_number,
        &req.card_identification_code,
        &req.ecard_token,
    );
    let (request_id, operator, legacy_card_number, card) =
        accept(v, all_some!(request_id, operator, legacy, card))?;
    Ok(AtPharmacy {
        request_id,
        operator_id: operator.to_owned(),
        legacy_card_number,
        card,
    })
}

pub fn with_financial_function(
    req: &pb::ActivateWithFinancialFunctionRequest,
    today: NaiveDate,
) -> Result<WithFinancialFunction> {
    bounded(&limits::ACTIVATE_WITH_FINANCIAL_FUNCTION, req)?;
    let mut v = FieldViolations::new();
    let request_id = RequestId::parse(&mut v, &req.request_id);
    let serial = v.check("serial_number", SerialNumber::parse(&req.serial_number));
    let id_number = v.check("id_number", IdNumber::parse(&req.id_number, today));
    let bank_card = v.check(
        "bank_card_number",
        BankCardNumber::parse(&req.bank_card_number),
    );
    let (request_id, serial_number, id_number, bank_card_number) =
        accept(v, all_some!(request_id, serial, id_number, bank_card))?;
    Ok(WithFinancialFunction {
        request_id,
        serial_number,
        id_number,
        bank_card_number,
    })
}

pub fn by_hotline(req: &pb::ActivateByHotlineRequest, today: NaiveDate) -> Result<ByHotline> {
    bounded(&limits::ACTIVATE_BY_HOTLINE, req)?;
    let mut v = FieldViolations::new();
    let request_id = RequestId::parse(&mut v, &req.request_id);
    let agent = required(&mut v, "agent_id", &req.agent_id);
    let id_number = v.check("id_number", IdNumber::parse(&req.id_number, today));
    let name = v.check("name", PersonName::parse(&req.name));
    let number = v.check("card_number", CardNumber::parse(&req.card_number));
    let (request_id, agent, id_number, name, card_number) =
        accept(v, all_some!(request_id, agent, id_number, name, number))?;
    Ok(ByHotline {
        request_id,
        agent_id: agent.to_owned(),
        id_number,
        name,
        card_number,
    })
}

/// The card presented (whether the caller had to send the card
/// identification code is the service's to decide: see `presented_code`).
pub fn eligibility(req: &pb::CheckEligibilityRequest) -> Result<EligibilityQuery> {
    use pb::check_eligibility_request::Card;
    bounded(&limits::CHECK_ELIGIBILITY, req)?;
    let mut v = FieldViolations::new();
    match &req.card {
        Some(Card::SocialSecurityCard(presented)) => {
            let number = v.check(
                "social_security_card.card_number",
                CardNumber::parse(&presented.card_number),
            );
            let code = presented_code(
                &mut v,
                "social_security_card.card_identification_code",
                &presented.card_identification_code,
            );
            let (number, identification_code) = accept(v, all_some!(number, code))?;
            Ok(EligibilityQuery::Card {
                number,
                identification_code,
            })
        }
        Some(Card::LegacyCardNumber(legacy)) => {
            let legacy =
                required(&mut v, "legacy_card_number", legacy).map(str::to_ascii_uppercase);
            Ok(EligibilityQuery::Legacy(accept(v, legacy)?))
        }
        Some(Card::EcardToken(token)) => {
            let token = required(&mut v, "ecard_token", token).map(str::to_owned);
            Ok(EligibilityQuery::Ecard(accept(v, token)?))
        }
        None => {
            v.add(
                "card",
                "FIELD_REQUIRED",
                "present a social security card or an old medical insurance card",
            );
            Err(ActivationError::Invalid(v.into_status()))
        }
    }
}

pub fn card_number(req: &pb::GetCardActivationRequest) -> Result<CardNumber> {
    bounded(&limits::GET_CARD_ACTIVATION, req)?;
    let mut v = FieldViolations::new();
    let number = v.check("card_number", CardNumber::parse(&req.card_number));
    accept(v, number)
}

pub fn approaching_deadlines(
    req: &pb::ListApproachingDeadlinesRequest,
) -> Result<ApproachingDeadlines> {
    bounded(&limits::LIST_APPROACHING_DEADLINES, req)?;
    let mut v = FieldViolations::new();
    let within_days = u32::try_from(req.within_days)
        .ok()
        .filter(|d| (1..=366).contains(d));
    if within_days.is_none() {
        v.add("within_days", "WITHIN_DAYS_INVALID", "must be 1 to 366");
    }
    let region = if req.region_code.is_empty() {
        Some(None)
    } else {
        region_code(&mut v, "region_code", &req.region_code).map(Some)
    };
    let page_request = req.page.clone().unwrap_or_default();
    let page = Page::parse(
        &mut v,
        "page",
        page_request.page_size,
        &page_request.page_token,
    );
    let (within_days, region_code, page) = accept(v, all_some!(within_days, region, page))?;
    Ok(ApproachingDeadlines {
        within_days,
        region_code,
        page,
    })
}

/// The page key `deadline|card_number` (see `present::page_key`).
pub fn set_region_policy(req: &pb::SetRegionPolicyRequest) -> Result<SetRegionPolicy> {
    bounded(&limits::SET_REGION_POLICY, req)?;
    let mut v = FieldViolations::new();
    let request_id = RequestId::parse(&mut v, &req.request_id);
    let given = req.policy.clone().unwrap_or_default();
    let region = region_code(&mut v, "policy.region_code", &given.region_code);
    let window = match (given.window_months, given.window_days) {
        (m, 0) if (1..=60).contains(&m) => Some(Window::Months(m as u32)),
        (0, d) if (1..=1830).contains(&d) => Some(Window::Days(d as u32)),
        _ => {
            v.add(
                "policy.window_months",
                "WINDOW_INVALID",
                "give either 1-60 months or 1-1830 days",
            );
            None
        }
    };
    let consequence = match pb::DeadlineConsequence::try_from(given.consequence) {
        Ok(pb::DeadlineConsequence::RestrictLegacyCard) => Some(Consequence::RestrictLegacyCard),
        Ok(pb::DeadlineConsequence::None) => Some(Consequence::None),
        _ => {
            v.add(
                "policy.consequence",
                "CONSEQUENCE_REQUIRED",
                "must be RESTRICT_LEGACY_CARD or NONE",
            );
            None
        }
    };
    let (request_id, region_code, window, consequence) =
        accept(v, all_some!(request_id, region, window, consequence))?;
    Ok(SetRegionPolicy {
        request_id,
        region_code,
        policy: RegionPolicy {
            window,
            consequence,
        },
    })
}

/// The region asked for: a 6-digit region code (anything else, a NUL byte
/// say, must not reach the database — schemathesis found one that did).
pub fn get_region_policy(req: &pb::GetRegionPolicyRequest) -> Result<&str> {
    bounded(&limits::GET_REGION_POLICY, req)?;
    let mut v = FieldViolations::new();
    region_code(&mut v, "region_code", &req.region_code);
    accept(v, Some(()))?;
    Ok(&req.region_code)
}

/// A `Watch…` request: only its size needs checking here (the cursor is
/// read by the event stream).
pub fn watch_activation_events(req: &pb::WatchActivationEventsRequest) -> Result<()> {
    bounded(&limits::WATCH_ACTIVATION_EVENTS, req)
}
