//! The electronic social security card (issue 16, item 4): an e-card bound
//! to a received card, issued through the person's session or at the
//! counter; short-lived QR tokens from the person's app, presented by a
//! hospital or pharmacy in place of card number and identification code
//! for eligibility and first-use activation; refused when expired, replayed
//! for an activation, forged (like a card not presented), or when the card
//! is lost or replaced.

use chrono::Duration as Span;
use socsec_proto::{
    activation::v1::{self as pb, EligibilityReason, check_eligibility_request::Card},
    card::v1 as card,
    identity::v1 as identity,
};
use system_tests::{as_caller, audit_trail, journeys, operator, reason};
use tonic::{Code, Status};

system_tests::world!(World);

async fn world() -> World {
    World(system_tests::World::with_partners(system_tests::world::CARD_PARTNERS, &[]).await)
}

fn person_caller(person: &identity::Person) -> String {
    format!("person:{}", person.person_id)
}

impl World {
    /// A person signed in, with a received ICBC card projected into activation.
    async fn holder(&mut self, name: &str) -> (identity::Person, card::Card) {
        self.signed_in_holder(name).await
    }

    async fn issue_ecard(
        &mut self,
        caller: &str,
        request_id: &str,
        card_number: &str,
    ) -> Result<card::Ecard, Status> {
        self.cards
            .issue_ecard(as_caller(
                caller,
                card::IssueEcardRequest {
                    request_id: request_id.into(),
                    card_number: card_number.into(),
                },
            ))
            .await
            .map(|r| r.into_inner())
    }

    async fn token(
        &mut self,
        person: &identity::Person,
        ecard: &card::Ecard,
    ) -> Result<card::EcardToken, Status> {
        self.cards
            .issue_ecard_token(as_caller(
                &person_caller(person),
                card::IssueEcardTokenRequest {
                    ecard_id: ecard.ecard_id.clone(),
                },
            ))
            .await
            .map(|r| r.into_inner())
    }

    /// A signed-in holder with an e-card issued through their session, and
    /// a token from their app.
    async fn holder_with_token(
        &mut self,
        name: &str,
    ) -> (identity::Person, card::Card, card::Ecard, String) {
        let (person, card) = self.holder(name).await;
        let ecard = self
            .issue_ecard(&person_caller(&person), "ecard-1", &card.card_number)
            .await
            .expect("the holder has an e-card issued");
        let token = self.token(&person, &ecard).await.expect("a token").token;
        (person, card, ecard, token)
    }

    async fn check(&mut self, caller: &str, token: &str) -> Result<pb::Eligibility, Status> {
        self.activation
            .check_eligibility(as_caller(
                caller,
                pb::CheckEligibilityRequest {
                    card: Some(Card::EcardToken(token.into())),
                },
            ))
            .await
            .map(|r| r.into_inner())
    }

    async fn at_hospital(
        &mut self,
        request_id: &str,
        token: &str,
    ) -> Result<pb::Activation, Status> {
        self.activation
            .activate_at_hospital(as_caller(
                "hospital:H-001",
                pb::ActivateAtHospitalRequest {
                    request_id: request_id.into(),
                    operator_id: "REG-1".into(),
                    visit_type: pb::VisitType::Outpatient as i32,
                    ecard_token: token.into(),
                    ..Default::default()
                },
            ))
            .await
            .map(|r| r.into_inner())
    }

    async fn report_loss(&mut self, person: &identity::Person, card: &card::Card) {
        self.cards
            .report_loss(as_caller(
                &person_caller(person),
                card::ReportLossRequest {
                    request_id: format!("loss-{}", card.card_number),
                    card_number: card.card_number.clone(),
                    reason: "lost on the bus".into(),
                },
            ))
            .await
            .expect("the holder reports their card lost");
    }
}

fn refused(status: &Status, code: Code, why: &str) {
    assert_eq!(status.code(), code, "{status:?}");
    assert_eq!(reason(status), why, "{status:?}");
}

#[tokio::test]
async fn an_ecard_is_issued_through_the_persons_session_or_at_the_counter_one_per_card() {
    let mut w = world().await;
    let (person, card) = w.holder("电子一").await;
    let ecard = w
        .issue_ecard(&person_caller(&person), "ecard-app", &card.card_number)
        .await
        .unwrap();
    assert_eq!(ecard.card_number, card.card_number);
    assert_eq!(ecard.person_id, person.person_id);
    assert_eq!(ecard.status, card::EcardStatus::InForce as i32);
    assert_eq!(ecard.issued_by, person_caller(&person));
    // A retry is the same answer; the counter finds the same e-card bound.
    let retried = w
        .issue_ecard(&person_caller(&person), "ecard-app", &card.card_number)
        .await
        .unwrap();
    assert_eq!(retried, ecard);
    let at_counter = w
        .issue_ecard("operator:OP0001", "ecard-counter", &card.card_number)
        .await
        .unwrap();
    assert_eq!(at_counter.ecard_id, ecard.ecard_id);

    // Issued at the counter for another person.
    let (_, other_card) =
        journeys::person_with_received_card(&mut w.0.identity, &mut w.0.cards, "电子二", "ICBC")
            .await;
    let counter = w
        .issue_ecard(
            "operator:OP0001",
            "ecard-counter-2",
            &other_card.card_number,
        )
        .await
        .unwrap();
    assert_eq!(counter.issued_by, "operator:OP0001");
    assert_ne!(counter.ecard_id, ecard.ecard_id);

    // A card not yet received has none.
    let mut identity = w.system.identity_client().await;
    let third = journeys::confirmed_person(&mut identity, "电子三").await;
    let application = journeys::apply(&mut w.cards, &third, "ICBC").await;
    let issued = journeys::issue(&mut w.cards, &application).await;
    let status = w
        .issue_ecard("operator:OP0001", "ecard-unreceived", &issued.card_number)
        .await
        .unwrap_err();
    refused(&status, Code::FailedPrecondition, "ECARD_CARD_NOT_ELIGIBLE");

    // Issuing is a change in the holder's trail, each token a read.
    w.token(&person, &ecard).await.unwrap();
    let trail = audit_trail(&w.system.cards, &person.person_id).await;
    assert!(
        trail
            .iter()
            .any(|r| r.action == "IssueEcard" && r.access == "CHANGE")
    );
    assert!(
        trail
            .iter()
            .any(|r| r.action == "IssueEcardToken" && r.access == "READ")
    );
}

#[tokio::test]
async fn a_token_holds_no_personal_data_checks_eligibility_and_activates_once() {
    let mut w = world().await;
    let (person, card, _, token) = w.holder_with_token("电子四").await;
    for personal in [
        &card.card_number,
        &card.card_identification_code,
        &person.id_number,
        &person.person_id,
    ] {
        assert!(
            !token.contains(personal.as_str()),
            "the token shows {personal}"
        );
    }
    journeys::register_legacy_card(&mut w.cards, &person, "YB0000041").await;

    // The hospital asks at the visit: the card, not yet activated.
    let eligibility = w.check("hospital:H-001", &token).await.unwrap();
    assert!(!eligibility.eligible);
    assert_eq!(
        eligibility.reason,
        EligibilityReason::CardNotActivated as i32
    );

    // The pharmacy's first use: old card, then the e-card.
    let what = "the old card in activation's projection";
    system_tests::eventually(what, std::time::Duration::from_secs(10), async || {
        let e = w
            .activation
            .check_eligibility(as_caller(
                "pharmacy:P-001",
                pb::CheckEligibilityRequest {
                    card: Some(Card::LegacyCardNumber("YB0000041".into())),
                },
            ))
            .await
            .ok()?
            .into_inner();
        (e.reason != EligibilityReason::CardUnknown as i32).then_some(())
    })
    .await;
    let first_use = pb::ActivateAtPharmacyRequest {
        request_id: "pos-1".into(),
        operator_id: "POS-1".into(),
        legacy_card_number: "YB0000041".into(),
        ecard_token: token.clone(),
        ..Default::default()
    };
    let activation = w
        .activation
        .activate_at_pharmacy(as_caller("pharmacy:P-001", first_use.clone()))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(activation.card_number, card.card_number);
    assert_eq!(activation.channel, pb::Channel::Pharmacy as i32);
    assert_eq!(activation.retired_legacy_card_number, "YB0000041");
    // The pharmacy's retry is answered as the first time.
    let retried = w
        .activation
        .activate_at_pharmacy(as_caller("pharmacy:P-001", first_use))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(retried, activation);

    // The same token again, for another registration: replayed.
    let status = w.at_hospital("reg-2", &token).await.unwrap_err();
    refused(&status, Code::FailedPrecondition, "ECARD_TOKEN_REPLAYED");
    // For eligibility it still answers until it expires: now eligible.
    let eligibility = w.check("hospital:H-001", &token).await.unwrap();
    assert!(eligibility.eligible, "{eligibility:?}");

    // Each presentation is on the holder's trail at card-issuance, as the
    // partner's through activation.
    let trail = audit_trail(&w.system.cards, &person.person_id).await;
    let presented = trail
        .iter()
        .filter(|r| r.action == "RedeemEcardToken" && r.access == "READ")
        .count();
    assert!(presented >= 4, "{presented} presentations audited");
}

#[tokio::test]
async fn an_expired_token_is_refused_and_a_new_one_works() {
    let mut w = world().await;
    let (person, _, ecard, token) = w.holder_with_token("电子五").await;
    w.system.clock.advance(Span::seconds(61));
    let status = w.check("hospital:H-001", &token).await.unwrap_err();
    refused(&status, Code::FailedPrecondition, "ECARD_TOKEN_EXPIRED");
    let status = w.at_hospital("reg-expired", &token).await.unwrap_err();
    refused(&status, Code::FailedPrecondition, "ECARD_TOKEN_EXPIRED");
    let fresh = w.token(&person, &ecard).await.unwrap().token;
    w.check("hospital:H-001", &fresh).await.unwrap();
}

#[tokio::test]
async fn a_card_reported_lost_refuses_its_ecard_tokens_at_once() {
    let mut w = world().await;
    let (person, card, ecard, token) = w.holder_with_token("电子六").await;
    w.check("hospital:H-001", &token).await.unwrap();
    w.report_loss(&person, &card).await;
    // Card-issuance is asked at each presentation: no projection lag.
    let status = w.check("hospital:H-001", &token).await.unwrap_err();
    refused(&status, Code::FailedPrecondition, "ECARD_NOT_IN_FORCE");
    let status = w.at_hospital("reg-lost", &token).await.unwrap_err();
    refused(&status, Code::FailedPrecondition, "ECARD_NOT_IN_FORCE");
    let status = w.token(&person, &ecard).await.unwrap_err();
    refused(&status, Code::FailedPrecondition, "ECARD_NOT_IN_FORCE");
}

#[tokio::test]
async fn after_a_replacement_the_old_ecard_is_dead_and_the_new_card_gets_its_own() {
    let mut w = world().await;
    let (person, card, old_ecard, old_token) = w.holder_with_token("电子七").await;
    let new_card = w
        .cards
        .replace_card(operator(card::ReplaceCardRequest {
            request_id: "replace-1".into(),
            card_number: card.card_number.clone(),
            reason: "damaged".into(),
            generation: 3,
            bank_bin: journeys::BANK_BIN.into(),
            ..Default::default()
        }))
        .await
        .unwrap()
        .into_inner();
    let status = w.check("hospital:H-001", &old_token).await.unwrap_err();
    refused(&status, Code::FailedPrecondition, "ECARD_NOT_IN_FORCE");
    let status = w.token(&person, &old_ecard).await.unwrap_err();
    refused(&status, Code::FailedPrecondition, "ECARD_NOT_IN_FORCE");

    // The new card, once received, gets an e-card of its own.
    let new_card = journeys::receive(&mut w.cards, &new_card).await;
    journeys::projected(&mut w.activation, &new_card.card_number, "RECEIVED").await;
    let new_ecard = w
        .issue_ecard(&person_caller(&person), "ecard-new", &new_card.card_number)
        .await
        .unwrap();
    assert_ne!(new_ecard.ecard_id, old_ecard.ecard_id);
    let token = w.token(&person, &new_ecard).await.unwrap().token;
    let eligibility = w.check("hospital:H-001", &token).await.unwrap();
    assert_eq!(
        eligibility.reason,
        EligibilityReason::CardNotActivated as i32
    );
    let activation = w.at_hospital("reg-new", &token).await.unwrap();
    assert_eq!(activation.card_number, new_card.card_number);
}

#[tokio::test]
async fn a_person_cannot_issue_or_use_an_ecard_of_someone_elses_card() {
    let mut w = world().await;
    let (owner, card, ecard, _) = w.holder_with_token("电子八").await;
    let (intruder, _) = w.holder("电子九").await;
    let status = w
        .issue_ecard(&person_caller(&intruder), "ecard-theft", &card.card_number)
        .await
        .unwrap_err();
    refused(&status, Code::PermissionDenied, "NOT_OWN_RECORD");
    // Someone else's e-card is answered as one that does not exist.
    let status = w.token(&intruder, &ecard).await.unwrap_err();
    refused(&status, Code::NotFound, "ECARD_NOT_FOUND");
    assert!(w.token(&owner, &ecard).await.is_ok());
}

#[tokio::test]
async fn a_forged_token_is_refused_like_a_card_not_presented_and_counted() {
    let mut w = world().await;
    let (_, _, _, token) = w.holder_with_token("电子十").await;
    // The genuine token's e-card and nonce under a signature of one's own.
    let (signed, _) = token.rsplit_once('.').unwrap();
    let forged = format!("{signed}.c2lnbmF0dXJlLW9mLW9uZXMtb3du");
    let eligibility = w.check("hospital:H-001", &forged).await.unwrap();
    assert_eq!(eligibility.reason, EligibilityReason::CardUnknown as i32);
    let status = w.at_hospital("reg-forged", &forged).await.unwrap_err();
    refused(&status, Code::NotFound, "CARD_NOT_FOUND");

    // Both failed attempts are in activation's audit log as the hospital's.
    let pool = sqlx::PgPool::connect(&w.system.database_url).await.unwrap();
    let failed: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM activation.audit_log
         WHERE actor_code = 'H-001' AND access = 'FAILED_ATTEMPT'",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(failed, 2);

    // They count against the hospital's limit: past it, the genuine token
    // is refused too.
    let limit = activation::Config::default().presentation_failure_limit;
    for _ in 2..limit {
        w.check("hospital:H-001", &forged).await.unwrap();
    }
    let status = w.check("hospital:H-001", &token).await.unwrap_err();
    refused(&status, Code::ResourceExhausted, "PRESENTATION_LIMIT");
}
