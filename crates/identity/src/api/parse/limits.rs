//! How much each identity request may carry: every string and repeated
//! field's maximum, checked first by each parser (see `platform::limits`)
//! and listed in the README.

use platform::limits::{Bound, CODE, Documented, Limits, NAME, PASSWORD, TEXT, TOKEN};
use socsec_proto::identity::v1 as pb;

use crate::domain::basic_info::{ADDRESS_MAX, ETHNICITY_MAX};

/// The bounds of a `basic_info` inside request `M`.
macro_rules! basic_info {
    ($m:ty) => {
        [
            Bound::chars("basic_info.name", NAME, |r: &$m| {
                r.basic_info.as_ref().map_or("", |b| &b.name)
            }),
            Bound::chars("basic_info.ethnicity", ETHNICITY_MAX, |r: &$m| {
                r.basic_info.as_ref().map_or("", |b| &b.ethnicity)
            }),
            Bound::chars("basic_info.phone", CODE, |r: &$m| {
                r.basic_info.as_ref().map_or("", |b| &b.phone)
            }),
            Bound::chars("basic_info.address", ADDRESS_MAX, |r: &$m| {
                r.basic_info.as_ref().map_or("", |b| &b.address)
            }),
        ]
    };
}

pub static REGISTER_PERSON: Limits<pb::RegisterPersonRequest> = Limits {
    rpc: "RegisterPerson",
    bounds: &{
        let [name, ethnicity, phone, address] = basic_info!(pb::RegisterPersonRequest);
        [
            Bound::chars("request_id", CODE, |r| &r.request_id),
            Bound::chars("id_number", CODE, |r| &r.id_number),
            name,
            ethnicity,
            phone,
            address,
        ]
    },
};

/// Each record is checked against `REGISTER_PERSON`'s bounds by the
/// record's own parser: one record over them is rejected alone.
pub static IMPORT_PERSONS: Limits<pb::ImportPersonsRequest> = Limits {
    rpc: "ImportPersons",
    bounds: &[
        Bound::chars("request_id", CODE, |r| &r.request_id),
        Bound::items("persons", platform::import::MAX_BATCH, |r| r.persons.len()),
        Bound::each_entry("persons[].id_number", CODE),
        Bound::each_entry("persons[].basic_info.name", NAME),
        Bound::each_entry("persons[].basic_info.ethnicity", ETHNICITY_MAX),
        Bound::each_entry("persons[].basic_info.phone", CODE),
        Bound::each_entry("persons[].basic_info.address", ADDRESS_MAX),
    ],
};

/// Each ID number is parsed as one (18 characters) or refused.
pub static LOOKUP_PERSONS: Limits<pb::LookupPersonsRequest> = Limits {
    rpc: "LookupPersons",
    bounds: &[
        Bound::items("id_numbers", platform::import::MAX_BATCH, |r| {
            r.id_numbers.len()
        }),
        Bound::each_entry("id_numbers[]", CODE),
    ],
};

pub static GET_PERSON: Limits<pb::GetPersonRequest> = Limits {
    rpc: "GetPerson",
    bounds: &[Bound::chars("person_id", CODE, |r| &r.person_id)],
};

pub static LOOKUP_PERSON: Limits<pb::LookupPersonRequest> = Limits {
    rpc: "LookupPerson",
    bounds: &[Bound::chars("id_number", CODE, |r| &r.id_number)],
};

pub static VERIFY_IDENTITY: Limits<pb::VerifyIdentityRequest> = Limits {
    rpc: "VerifyIdentity",
    bounds: &[
        Bound::chars("id_number", CODE, |r| &r.id_number),
        Bound::chars("name", NAME, |r| &r.name),
    ],
};

pub static VERIFY_HOLDER: Limits<pb::VerifyHolderRequest> = Limits {
    rpc: "VerifyHolder",
    bounds: &[
        Bound::chars("person_id", CODE, |r| &r.person_id),
        Bound::chars("id_number", CODE, |r| &r.id_number),
    ],
};

pub static CONFIRM_BASIC_INFO: Limits<pb::ConfirmBasicInfoRequest> = Limits {
    rpc: "ConfirmBasicInfo",
    bounds: &[
        Bound::chars("request_id", CODE, |r| &r.request_id),
        Bound::chars("person_id", CODE, |r| &r.person_id),
    ],
};

pub static CORRECT_BASIC_INFO: Limits<pb::CorrectBasicInfoRequest> = Limits {
    rpc: "CorrectBasicInfo",
    bounds: &{
        let [name, ethnicity, phone, address] = basic_info!(pb::CorrectBasicInfoRequest);
        [
            Bound::chars("request_id", CODE, |r| &r.request_id),
            Bound::chars("person_id", CODE, |r| &r.person_id),
            name,
            ethnicity,
            phone,
            address,
            Bound::chars("reason", TEXT, |r| &r.reason),
            Bound::chars("evidence_ref", TEXT, |r| &r.evidence_ref),
        ]
    },
};

pub static LIST_BASIC_INFO_VERSIONS: Limits<pb::ListBasicInfoVersionsRequest> = Limits {
    rpc: "ListBasicInfoVersions",
    bounds: &[Bound::chars("person_id", CODE, |r| &r.person_id)],
};

pub static SET_ONLINE_PASSWORD: Limits<pb::SetOnlinePasswordRequest> = Limits {
    rpc: "SetOnlinePassword",
    bounds: &[
        Bound::chars("request_id", CODE, |r| &r.request_id),
        Bound::chars("id_number", CODE, |r| &r.id_number),
        Bound::chars("password", PASSWORD, |r| &r.password),
    ],
};

pub static SIGN_IN: Limits<pb::SignInRequest> = Limits {
    rpc: "SignIn",
    bounds: &[
        Bound::chars("id_number", CODE, |r| &r.id_number),
        Bound::chars("password", PASSWORD, |r| &r.password),
    ],
};

pub static SIGN_OUT: Limits<pb::SignOutRequest> = Limits {
    rpc: "SignOut",
    bounds: &[Bound::chars("request_id", CODE, |r| &r.request_id)],
};

pub static REVOKE_SESSIONS: Limits<pb::RevokeSessionsRequest> = Limits {
    rpc: "RevokeSessions",
    bounds: &[
        Bound::chars("request_id", CODE, |r| &r.request_id),
        Bound::chars("person_id", CODE, |r| &r.person_id),
        Bound::chars("reason", TEXT, |r| &r.reason),
    ],
};

pub static CHECK_SESSION: Limits<pb::CheckSessionRequest> = Limits {
    rpc: "CheckSession",
    bounds: &[
        Bound::chars("session_id", CODE, |r| &r.session_id),
        Bound::chars("person_id", CODE, |r| &r.person_id),
    ],
};

pub static REGISTER_PARTNER: Limits<pb::RegisterPartnerRequest> = Limits {
    rpc: "RegisterPartner",
    bounds: &[
        Bound::chars("request_id", CODE, |r| &r.request_id),
        Bound::chars("code", CODE, |r| &r.code),
        Bound::chars("name", NAME, |r| &r.name),
        Bound::chars("region_code", CODE, |r| &r.region_code),
        Bound::chars("parent_code", CODE, |r| &r.parent_code),
        Bound::chars("credit_code", CODE, |r| &r.credit_code),
    ],
};

pub static SET_PARTNER_DESIGNATION: Limits<pb::SetPartnerDesignationRequest> = Limits {
    rpc: "SetPartnerDesignation",
    bounds: &[
        Bound::chars("request_id", CODE, |r| &r.request_id),
        Bound::chars("code", CODE, |r| &r.code),
        Bound::chars("reason", TEXT, |r| &r.reason),
    ],
};

pub static GET_PARTNER: Limits<pb::GetPartnerRequest> = Limits {
    rpc: "GetPartner",
    bounds: &[Bound::chars("code", CODE, |r| &r.code)],
};

pub static LIST_PARTNERS: Limits<pb::ListPartnersRequest> = Limits {
    rpc: "ListPartners",
    bounds: &[Bound::chars("page.page_token", TOKEN, |r| {
        r.page.as_ref().map_or("", |p| &p.page_token)
    })],
};

pub static WATCH_IDENTITY_EVENTS: Limits<pb::WatchIdentityEventsRequest> = Limits {
    rpc: "WatchIdentityEvents",
    bounds: &[Bound::chars("after.cursor", TOKEN, |r| {
        r.after.as_ref().map_or("", |a| &a.cursor)
    })],
};

/// Every identity RPC's limits, in the proto's order.
pub static ALL: &[&dyn Documented] = &[
    &REGISTER_PERSON,
    &IMPORT_PERSONS,
    &LOOKUP_PERSONS,
    &GET_PERSON,
    &LOOKUP_PERSON,
    &VERIFY_IDENTITY,
    &VERIFY_HOLDER,
    &CONFIRM_BASIC_INFO,
    &CORRECT_BASIC_INFO,
    &LIST_BASIC_INFO_VERSIONS,
    &SET_ONLINE_PASSWORD,
    &SIGN_IN,
    &SIGN_OUT,
    &REVOKE_SESSIONS,
    &CHECK_SESSION,
    &REGISTER_PARTNER,
    &SET_PARTNER_DESIGNATION,
    &GET_PARTNER,
    &LIST_PARTNERS,
    &WATCH_IDENTITY_EVENTS,
];

#[cfg(test)]
mod tests {
    #[test]
    fn every_string_and_repeated_field_of_every_request_is_bounded() {
        assert_eq!(
            platform::limits::coverage_gaps("socsec.identity.v1.IdentityService", super::ALL),
            Vec::<String>::new()
        );
    }
}
