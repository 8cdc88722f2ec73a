//! How much each activation request may carry: every string and repeated
//! field's maximum, checked first by each parser (see `platform::limits`)
//! and listed in the README.

use platform::limits::{Bound, CODE, Documented, Limits, NAME, TOKEN};
use socsec_proto::activation::v1::{self as pb, check_eligibility_request::Card};

pub static ACTIVATE_AT_BANK_OUTLET: Limits<pb::ActivateAtBankOutletRequest> = Limits {
    rpc: "ActivateAtBankOutlet",
    bounds: &[
        Bound::chars("request_id", CODE, |r| &r.request_id),
        Bound::chars("operator_id", CODE, |r| &r.operator_id),
        Bound::chars("card_number", CODE, |r| &r.card_number),
        Bound::chars("id_number", CODE, |r| &r.id_number),
        Bound::chars("card_identification_code", CODE, |r| {
            &r.card_identification_code
        }),
    ],
};

pub static ACTIVATE_AT_HOSPITAL: Limits<pb::ActivateAtHospitalRequest> = Limits {
    rpc: "ActivateAtHospital",
    bounds: &[
        Bound::chars("request_id", CODE, |r| &r.request_id),
        Bound::chars("operator_id", CODE, |r| &r.operator_id),
        Bound::chars("card_number", CODE, |r| &r.card_number),
        Bound::chars("card_identification_code", CODE, |r| {
            &r.card_identification_code
        }),
        Bound::chars("ecard_token", TOKEN, |r| &r.ecard_token),
    ],
};

pub static ACTIVATE_AT_PHARMACY: Limits<pb::ActivateAtPharmacyRequest> = Limits {
    rpc: "ActivateAtPharmacy",
    bounds: &[
        Bound::chars("request_id", CODE, |r| &r.request_id),
        Bound::chars("operator_id", CODE, |r| &r.operator_id),
        Bound::chars("legacy_card_number", CODE, |r| &r.legacy_card_number),
        Bound::chars("card_number", CODE, |r| &r.card_number),
        Bound::chars("card_identification_code", CODE, |r| {
            &r.card_identification_code
        }),
        Bound::chars("ecard_token", TOKEN, |r| &r.ecard_token),
    ],
};

pub static ACTIVATE_WITH_FINANCIAL_FUNCTION: Limits<pb::ActivateWithFinancialFunctionRequest> =
    Limits {
        rpc: "ActivateWithFinancialFunction",
        bounds: &[
            Bound::chars("request_id", CODE, |r| &r.request_id),
            Bound::chars("serial_number", CODE, |r| &r.serial_number),
            Bound::chars("id_number", CODE, |r| &r.id_number),
            Bound::chars("bank_card_number", CODE, |r| &r.bank_card_number),
        ],
    };

pub static ACTIVATE_BY_HOTLINE: Limits<pb::ActivateByHotlineRequest> = Limits {
    rpc: "ActivateByHotline",
    bounds: &[
        Bound::chars("request_id", CODE, |r| &r.request_id),
        Bound::chars("agent_id", CODE, |r| &r.agent_id),
        Bound::chars("id_number", CODE, |r| &r.id_number),
        Bound::chars("name", NAME, |r| &r.name),
        Bound::chars("card_number", CODE, |r| &r.card_number),
    ],
};

pub static CHECK_ELIGIBILITY: Limits<pb::CheckEligibilityRequest> = Limits {
    rpc: "CheckEligibility",
    bounds: &[
        Bound::chars("social_security_card.card_number", CODE, |r| {
            match &r.card {
                Some(Card::SocialSecurityCard(c)) => &c.card_number,
                _ => "",
            }
        }),
        Bound::chars(
            "social_security_card.card_identification_code",
            CODE,
            |r| match &r.card {
                Some(Card::SocialSecurityCard(c)) => &c.card_identification_code,
                _ => "",
            },
        ),
        Bound::chars("legacy_card_number", CODE, |r| match &r.card {
            Some(Card::LegacyCardNumber(n)) => n,
            _ => "",
        }),
        Bound::chars("ecard_token", TOKEN, |r| match &r.card {
            Some(Card::EcardToken(t)) => t,
            _ => "",
        }),
    ],
};

pub static GET_CARD_ACTIVATION: Limits<pb::GetCardActivationRequest> = Limits {
    rpc: "GetCardActivation",
    bounds: &[Bound::chars("card_number", CODE, |r| &r.card_number)],
};

pub static LIST_APPROACHING_DEADLINES: Limits<pb::ListApproachingDeadlinesRequest> = Limits {
    rpc: "ListApproachingDeadlines",
    bounds: &[
        Bound::chars("region_code", CODE, |r| &r.region_code),
        Bound::chars("page.page_token", TOKEN, |r| {
            r.page.as_ref().map_or("", |p| &p.page_token)
        }),
    ],
};

pub static SET_REGION_POLICY: Limits<pb::SetRegionPolicyRequest> = Limits {
    rpc: "SetRegionPolicy",
    bounds: &[
        Bound::chars("request_id", CODE, |r| &r.request_id),
        Bound::chars("policy.region_code", CODE, |r| {
            r.policy.as_ref().map_or("", |p| &p.region_code)
        }),
    ],
};

pub static GET_REGION_POLICY: Limits<pb::GetRegionPolicyRequest> = Limits {
    rpc: "GetRegionPolicy",
    bounds: &[Bound::chars("region_code", CODE, |r| &r.region_code)],
};

pub static WATCH_ACTIVATION_EVENTS: Limits<pb::WatchActivationEventsRequest> = Limits {
    rpc: "WatchActivationEvents",
    bounds: &[Bound::chars("after.cursor", TOKEN, |r| {
        r.after.as_ref().map_or("", |a| &a.cursor)
    })],
};

/// Every activation RPC's limits, in the proto's order.
pub static ALL: &[&dyn Documented] = &[
    &ACTIVATE_AT_BANK_OUTLET,
    &ACTIVATE_AT_HOSPITAL,
    &ACTIVATE_AT_PHARMACY,
    &ACTIVATE_WITH_FINANCIAL_FUNCTION,
    &ACTIVATE_BY_HOTLINE,
    &CHECK_ELIGIBILITY,
    &GET_CARD_ACTIVATION,
    &LIST_APPROACHING_DEADLINES,
    &SET_REGION_POLICY,
    &GET_REGION_POLICY,
    &WATCH_ACTIVATION_EVENTS,
];

#[cfg(test)]
mod tests {
    #[test]
    fn every_string_and_repeated_field_of_every_request_is_bounded() {
        assert_eq!(
            platform::limits::coverage_gaps("socsec.activation.v1.ActivationService", super::ALL),
            Vec::<String>::new()
        );
    }
}
