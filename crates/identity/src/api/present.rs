//! Rows and domain values into answers and events, shaped to what each
//! caller may see.
//!
//! Who sees what: a `Person` (full ID number and name, with the masked
//! number beside it) goes only to the callers the policy lets read a record
//! (operators, services, the person themself); partners verifying an
//! identity learn whether the pair matches, nothing more.

use pii::Gender;
use platform::{
    auth::Caller,
    clock::{date, timestamp},
    mutation::Events,
};
use prost::Message;
use socsec_proto::{common::v1 as common, identity::v1 as pb};
use uuid::Uuid;

use crate::{
    domain::{BasicInfoStatus, PartnerKind, access},
    service::Session,
    store::{PartnerRow, PersonRow, VersionRow},
};

pub fn person(row: &PersonRow) -> pb::Person {
    pb::Person {
        person_id: row.person_id.to_string(),
        id_number: row.id_number.expose().to_owned(),
        masked_id_number: Some(common::MaskedIdNumber {
            masked: row.id_number.masked(),
        }),
        basic_info: Some(pb::BasicInfo {
            name: row.name.expose().to_owned(),
            gender: gender(row.gender.0) as i32,
            ethnicity: row.ethnicity.clone(),
            phone: row.phone.clone(),
            address: row.address.clone(),
        }),
        birth_date: Some(date(row.birth_date)),
        region_code: row.region_code.as_str().to_owned(),
        status: basic_info_status(row.status) as i32,
        version: row.version,
        registered_at: Some(timestamp(row.registered_at)),
        confirmed_at: row.confirmed_at.map(timestamp),
    }
}

fn basic_info_status(status: BasicInfoStatus) -> pb::BasicInfoStatus {
    match status {
        BasicInfoStatus::Unconfirmed => pb::BasicInfoStatus::Unconfirmed,
        BasicInfoStatus::Confirmed => pb::BasicInfoStatus::Confirmed,
    }
}

pub fn versions(rows: Vec<VersionRow>) -> pb::ListBasicInfoVersionsResponse {
    pb::ListBasicInfoVersionsResponse {
        versions: rows
            .into_iter()
            .map(|r| pb::BasicInfoVersion {
                version: r.version,
                basic_info: Some(pb::BasicInfo {
                    name: r.name.expose().to_owned(),
                    gender: gender(r.gender.0) as i32,
                    ethnicity: r.ethnicity,
                    phone: r.phone,
                    address: r.address,
                }),
                changed_by: r.changed_by,
                reason: r.reason,
                evidence_ref: r.evidence_ref,
                changed_at: Some(timestamp(r.changed_at)),
            })
            .collect(),
    }
}

/// Whether an ID-number/name pair matched; whose it is only for callers
/// who may learn it.
pub fn verify_identity(caller: &Caller, matched: Option<Uuid>) -> pb::VerifyIdentityResponse {
    pb::VerifyIdentityResponse {
        r#match: matched.is_some(),
        person_id: matched
            .filter(|_| access::learns_who_matched(caller))
            .map(|id| id.to_string())
            .unwrap_or_default(),
    }
}

pub fn verify_holder(matched: bool) -> pb::VerifyHolderResponse {
    pb::VerifyHolderResponse { r#match: matched }
}

pub fn sign_in(session: Session) -> pb::SignInResponse {
    pb::SignInResponse {
        person_id: session.person_id.to_string(),
        token: session.token,
        expires_at: Some(timestamp(session.expires_at)),
    }
}

pub fn partner(row: &PartnerRow) -> pb::Partner {
    pb::Partner {
        code: row.code.as_str().to_owned(),
        kind: partner_kind(row.kind) as i32,
        name: row.name.clone(),
        region_code: row.region_code.as_str().to_owned(),
        parent_code: row
            .parent_code
            .as_ref()
            .map(|c| c.as_str().to_owned())
            .unwrap_or_default(),
        credit_code: row
            .credit_code
            .as_ref()
            .map(|c| c.as_str().to_owned())
            .unwrap_or_default(),
        designation_in_force: row.designation_in_force,
        updated_at: Some(timestamp(row.updated_at)),
        collects_contributions: row.collects_contributions,
    }
}

pub fn partners(rows: &[PartnerRow], next_page_token: String) -> pb::ListPartnersResponse {
    pb::ListPartnersResponse {
        partners: rows.iter().map(partner).collect(),
        page: Some(common::PageResponse { next_page_token }),
    }
}

fn gender(gender: Gender) -> common::Gender {
    match gender {
        Gender::Male => common::Gender::Male,
        Gender::Female => common::Gender::Female,
    }
}

fn partner_kind(kind: PartnerKind) -> common::PartnerKind {
    match kind {
        PartnerKind::Bank => common::PartnerKind::Bank,
        PartnerKind::BankOutlet => common::PartnerKind::BankOutlet,
        PartnerKind::Hospital => common::PartnerKind::Hospital,
        PartnerKind::Pharmacy => common::PartnerKind::Pharmacy,
        PartnerKind::HrAgency => common::PartnerKind::HrAgency,
        PartnerKind::Employer => common::PartnerKind::Employer,
        PartnerKind::HotlineCenter => common::PartnerKind::HotlineCenter,
    }
}

/// The events identity publishes on `WatchIdentityEvents`.
pub mod events {
    use super::*;
    use pb::identity_event::Event;

    fn one(event: Event) -> Events {
        let (event_type, payload) = encoded(event);
        Events::one(event_type, payload)
    }

    fn encoded(event: Event) -> (&'static str, Vec<u8>) {
        let event_type = match &event {
            Event::PersonRegistered(_) => "PersonRegistered",
            Event::BasicInfoConfirmed(_) => "BasicInfoConfirmed",
            Event::BasicInfoCorrected(_) => "BasicInfoCorrected",
            Event::PartnerChanged(_) => "PartnerChanged",
        };
        let payload = pb::IdentityEvent {
            event: Some(event),
            ..Default::default()
        }
        .encode_to_vec();
        (event_type, payload)
    }

    /// What an import batch registered: `PersonRegistered` for each person,
    /// and `BasicInfoConfirmed` (version 1) for those imported confirmed.
    pub fn persons_imported(persons: &[(Uuid, bool)]) -> Events {
        Events::many(persons.iter().flat_map(|&(person_id, confirmed)| {
            let person_id = person_id.to_string();
            let registered = encoded(Event::PersonRegistered(pb::PersonRegistered {
                person_id: person_id.clone(),
                version: 1,
            }));
            let confirmed = confirmed.then(|| {
                encoded(Event::BasicInfoConfirmed(pb::BasicInfoConfirmed {
                    person_id,
                    version: 1,
                }))
            });
            std::iter::once(registered).chain(confirmed)
        }))
    }

    pub fn person_registered(person_id: Uuid) -> Events {
        one(Event::PersonRegistered(pb::PersonRegistered {
            person_id: person_id.to_string(),
            version: 1,
        }))
    }

    pub fn basic_info_confirmed(person_id: Uuid, version: i32) -> Events {
        one(Event::BasicInfoConfirmed(pb::BasicInfoConfirmed {
            person_id: person_id.to_string(),
            version,
        }))
    }

    pub fn basic_info_corrected(person_id: Uuid, version: i32) -> Events {
        one(Event::BasicInfoCorrected(pb::BasicInfoCorrected {
            person_id: person_id.to_string(),
            version,
        }))
    }

    /// The partner's registration as it now stands.
    pub fn partner_changed(partner: pb::Partner) -> Events {
        one(Event::PartnerChanged(pb::PartnerChanged {
            partner: Some(partner),
        }))
    }
}

/// The registered persons among those asked for.
pub fn person_refs(found: &[(Uuid, pii::IdNumber, BasicInfoStatus)]) -> pb::LookupPersonsResponse {
    pb::LookupPersonsResponse {
        persons: found
            .iter()
            .map(|(person_id, id_number, status)| pb::PersonRef {
                id_number: id_number.expose().to_owned(),
                person_id: person_id.to_string(),
                status: basic_info_status(*status) as i32,
            })
            .collect(),
    }
}
