//! The bureau's two trust roots and revocation, against the four services
//! running over mutual TLS: partners' certificates come from the partner
//! CA, services' and operators' from the internal CA, and a certificate
//! from the wrong one is refused whatever it names; a certificate put on
//! its CA's revocation list is refused once the list's file is rewritten,
//! without restarting anything, on connections opened before too.

use std::time::Duration;

use devpki::{Ca, Issued, Validity};
use socsec_proto::{
    audit::v1::{ListAuditRecordsRequest, audit_service_client::AuditServiceClient},
    card::v1::{self as card, card_service_client::CardServiceClient},
    common::v1::PartnerKind,
    identity::v1::{GetPersonRequest, identity_service_client::IdentityServiceClient},
};
use system_tests::{System, eventually, journeys, pki, pki::tls_channel, reason};
use tonic::{Code, Status, transport::Channel};

/// The revocation lists are looked at every 100 ms in the tests; this is
/// how long a test waits for a rewrite to take effect before failing.
const PICKED_UP_WITHIN: Duration = Duration::from_secs(10);

/// Refused before any handler ran: by authentication or authorization.
fn refused_at_the_door(status: &Status) -> bool {
    matches!(
        status.code(),
        Code::Unauthenticated | Code::PermissionDenied
    )
}

/// `GetCard` of a card nobody has, as the certificate of `channel`: a bank
/// that gets in learns the card is not there.
async fn get_card(channel: Channel) -> Status {
    CardServiceClient::new(channel)
        .get_card(card::GetCardRequest {
            key: Some(card::get_card_request::Key::CardNumber("A00000009".into())),
        })
        .await
        .expect_err("no such card")
}

/// The audit query of a person nobody registered, as the certificate of
/// `channel`: an operator that gets in gets an empty trail.
async fn audit(channel: Channel) -> Result<(), Status> {
    AuditServiceClient::new(channel)
        .list_audit_records(ListAuditRecordsRequest {
            person_id: uuid::Uuid::new_v4().to_string(),
            page: None,
        })
        .await
        .map(|_| ())
}

fn every_service(system: &System) -> [std::net::SocketAddr; 4] {
    [
        system.identity.addr,
        system.cards.addr,
        system.activation.addr,
        system.contribution.addr,
    ]
}

#[tokio::test]
async fn a_revoked_partner_certificate_is_refused_once_the_list_is_rewritten() {
    let system = System::start().await;
    let mut identity = system.identity_client().await;
    journeys::register_partner(&mut identity, "BANK-RVK", PartnerKind::Bank, "").await;
    // A certificate of its own (the shared ones serve other tests).
    let revoked = pki().issue("bank:BANK-RVK", Validity::DEVELOPMENT);
    let replacement = pki().issue("bank:BANK-RVK", Validity::DEVELOPMENT);
    let open_before = tls_channel(system.cards.addr, Some(&revoked));
    let status = get_card(open_before.clone()).await;
    assert!(!refused_at_the_door(&status), "{status:?}");

    pki().revoke(Ca::Partner, &revoked);

    // The connection opened before the revocation is refused from its next
    // call on, and so is a new one; no service restarted.
    let refused = eventually(
        "card-issuance refuses the revoked certificate",
        PICKED_UP_WITHIN,
        async || {
            let status = get_card(open_before.clone()).await;
            (reason(&status) == "CERTIFICATE_REVOKED").then_some(status)
        },
    )
    .await;
    assert_eq!(refused.code(), Code::Unauthenticated);
    let fresh = get_card(tls_channel(system.cards.addr, Some(&revoked))).await;
    assert_eq!(reason(&fresh), "CERTIFICATE_REVOKED", "{fresh:?}");
    // Revocation is per certificate: the bank's new one gets in.
    let status = get_card(tls_channel(system.cards.addr, Some(&replacement))).await;
    assert!(!refused_at_the_door(&status), "{status:?}");
}

#[tokio::test]
async fn a_revoked_operator_certificate_is_refused_by_every_service() {
    let system = System::start().await;
    let revoked = pki().issue("operator:OP-RVK", Validity::DEVELOPMENT);
    let channels: Vec<Channel> = every_service(&system)
        .into_iter()
        .map(|addr| tls_channel(addr, Some(&revoked)))
        .collect();
    for channel in &channels {
        audit(channel.clone())
            .await
            .expect("an operator may query the trail");
    }

    pki().revoke(Ca::Internal, &revoked);

    for channel in &channels {
        let refused = eventually(
            "the service refuses the revoked operator certificate",
            PICKED_UP_WITHIN,
            async || audit(channel.clone()).await.err(),
        )
        .await;
        assert_eq!(refused.code(), Code::Unauthenticated, "{refused:?}");
        assert_eq!(reason(&refused), "CERTIFICATE_REVOKED");
    }
    // Other operators are unaffected.
    let colleague = pki().caller("operator:OP0001");
    for addr in every_service(&system) {
        audit(tls_channel(addr, Some(&colleague))).await.unwrap();
    }
}

#[tokio::test]
async fn a_service_or_operator_certificate_from_the_partner_ca_is_refused() {
    let system = System::start().await;
    let get_person = async |certificate: &Issued| {
        IdentityServiceClient::new(tls_channel(system.identity.addr, Some(certificate)))
            .get_person(GetPersonRequest {
                person_id: uuid::Uuid::new_v4().to_string(),
            })
            .await
            .expect_err("nobody has that id")
    };
    // From the internal CA, a service gets in (and finds no one).
    let genuine = pki().caller("service:card-issuance");
    let status = get_person(&genuine).await;
    assert_eq!(status.code(), Code::NotFound, "{status:?}");
    // The same name from the partner CA (a partner's CA issuing a
    // certificate that says "service") is refused.
    let forged = pki().issue_from(Ca::Partner, "service:card-issuance", Validity::DEVELOPMENT);
    let status = get_person(&forged).await;
    assert_eq!(status.code(), Code::Unauthenticated, "{status:?}");
    assert_eq!(reason(&status), "CERTIFICATE_ISSUER_MISMATCH");
    assert!(status.message().contains("internal CA"), "{status:?}");

    let forged_operator = pki().issue_from(Ca::Partner, "operator:OP0001", Validity::DEVELOPMENT);
    for addr in every_service(&system) {
        let status = audit(tls_channel(addr, Some(&forged_operator)))
            .await
            .unwrap_err();
        assert_eq!(status.code(), Code::Unauthenticated, "{status:?}");
        assert_eq!(reason(&status), "CERTIFICATE_ISSUER_MISMATCH");
    }
}

#[tokio::test]
async fn a_partner_certificate_from_the_internal_ca_is_refused() {
    let system = System::start().await;
    let mut identity = system.identity_client().await;
    journeys::register_partner(&mut identity, "ICBC", PartnerKind::Bank, "").await;
    let genuine = pki().caller("bank:ICBC");
    let status = get_card(tls_channel(system.cards.addr, Some(&genuine))).await;
    assert!(!refused_at_the_door(&status), "{status:?}");

    let from_internal = pki().issue_from(Ca::Internal, "bank:ICBC", Validity::DEVELOPMENT);
    let status = get_card(tls_channel(system.cards.addr, Some(&from_internal))).await;
    assert_eq!(status.code(), Code::Unauthenticated, "{status:?}");
    assert_eq!(reason(&status), "CERTIFICATE_ISSUER_MISMATCH");
    assert!(status.message().contains("partner CA"), "{status:?}");
}
