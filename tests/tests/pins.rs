//! Card PINs (issue 17, item 3): the medical-settlement PIN of a social
//! security card is set and changed by its holder, reset at the counter,
//! and verified by designated hospitals and pharmacies presenting the card;
//! five wrong PINs in a row lock it for everyone until the counter resets
//! it; the PIN is never answered, never logged, never in the database log.

use pii::CardIdentificationCode;
use socsec_proto::{
    card::v1::{self as pb, PinState, PinVerification},
    identity::v1 as identity,
};
use system_tests::{as_caller, audit_trail, journeys, logs, operator, reason};
use tonic::{Code, Status};

const PIN: &str = "864209";
const NEW_PIN: &str = "375918";
const WRONG_PIN: &str = "502783";

system_tests::world!(World);

async fn world() -> World {
    World(system_tests::World::with_partners(system_tests::world::CARD_PARTNERS, &[]).await)
}

impl World {
    /// A signed-in person with a received ICBC card.
    async fn holder(&mut self, name: &str) -> (identity::Person, pb::Card) {
        self.signed_in_holder(name).await
    }

    async fn set(
        &mut self,
        caller: &str,
        card: &pb::Card,
        pin: &str,
    ) -> Result<pb::PinStatus, Status> {
        self.cards
            .set_pin(as_caller(
                caller,
                pb::SetPinRequest {
                    request_id: format!("set-{}-{pin}", card.card_number),
                    card_number: card.card_number.clone(),
                    pin: pin.into(),
                },
            ))
            .await
            .map(|r| r.into_inner())
    }

    async fn change(
        &mut self,
        caller: &str,
        card: &pb::Card,
        current: &str,
        new: &str,
        request_id: &str,
    ) -> Result<pb::PinStatus, Status> {
        self.cards
            .change_pin(as_caller(
                caller,
                pb::ChangePinRequest {
                    request_id: request_id.into(),
                    card_number: card.card_number.clone(),
                    current_pin: current.into(),
                    new_pin: new.into(),
                },
            ))
            .await
            .map(|r| r.into_inner())
    }

    async fn reset(
        &mut self,
        card: &pb::Card,
        pin: &str,
        request_id: &str,
    ) -> Result<pb::PinStatus, Status> {
        self.cards
            .reset_pin(operator(pb::ResetPinRequest {
                request_id: request_id.into(),
                card_number: card.card_number.clone(),
                new_pin: pin.into(),
            }))
            .await
            .map(|r| r.into_inner())
    }

    async fn verify_with_code(
        &mut self,
        caller: &str,
        card: &pb::Card,
        code: &str,
        pin: &str,
    ) -> Result<pb::VerifyPinResponse, Status> {
        self.cards
            .verify_pin(as_caller(
                caller,
                pb::VerifyPinRequest {
                    card: Some(pb::CardPresentation {
                        card_number: card.card_number.clone(),
                        card_identification_code: code.into(),
                    }),
                    pin: pin.into(),
                },
            ))
            .await
            .map(|r| r.into_inner())
    }

    /// The hospital's (or pharmacy's) answer for `pin` with the card presented properly.
    async fn verify(&mut self, caller: &str, card: &pb::Card, pin: &str) -> PinVerification {
        let code = card.card_identification_code.clone();
        let answer = self
            .verify_with_code(caller, card, &code, pin)
            .await
            .expect("a presented card's PIN is checked");
        answer.result()
    }

    async fn status(&mut self, caller: &str, card: &pb::Card) -> pb::PinStatus {
        self.cards
            .get_pin_status(as_caller(
                caller,
                pb::GetPinStatusRequest {
                    card_number: card.card_number.clone(),
                },
            ))
            .await
            .expect("the status of a card's PIN")
            .into_inner()
    }
}

fn person(p: &identity::Person) -> String {
    format!("person:{}", p.person_id)
}

#[tokio::test]
async fn the_holder_sets_and_changes_the_pin_and_a_wrong_current_pin_is_refused() {
    let mut w = world().await;
    let (holder, card) = w.holder("林静").await;
    let me = person(&holder);
    assert_eq!(w.status(&me, &card).await.state(), PinState::NotSet);

    let set = w.set(&me, &card, PIN).await.unwrap();
    assert_eq!(set.state(), PinState::Set);
    let again = w.set(&me, &card, NEW_PIN).await.unwrap_err();
    assert_eq!(reason(&again), "PIN_ALREADY_SET");

    let wrong = w
        .change(&me, &card, WRONG_PIN, NEW_PIN, "change-1")
        .await
        .unwrap_err();
    assert_eq!(
        (wrong.code(), reason(&wrong)),
        (Code::PermissionDenied, "PIN_MISMATCH".into())
    );
    assert_eq!(
        w.status(&me, &card).await.attempts_left,
        4,
        "a wrong current PIN counts"
    );

    let changed = w
        .change(&me, &card, PIN, NEW_PIN, "change-2")
        .await
        .unwrap();
    assert_eq!((changed.state(), changed.attempts_left), (PinState::Set, 5));
    // A retry is answered from the first answer.
    let retried = w
        .change(&me, &card, PIN, NEW_PIN, "change-2")
        .await
        .unwrap();
    assert_eq!(retried, changed);
    assert_eq!(
        w.verify("hospital:H-001", &card, NEW_PIN).await,
        PinVerification::Match
    );
    assert_eq!(
        w.verify("hospital:H-001", &card, PIN).await,
        PinVerification::NoMatch
    );

    let trivial = w
        .change(&me, &card, NEW_PIN, "123456", "change-3")
        .await
        .unwrap_err();
    assert_eq!(reason(&trivial), "PIN_TOO_SIMPLE");
    let short = w.set(&me, &card, "12345").await.unwrap_err();
    assert_eq!(reason(&short), "PIN_FORMAT");
}

#[tokio::test]
async fn another_person_cannot_set_change_or_read_the_pin() {
    let mut w = world().await;
    let (_, card) = w.holder("林静").await;
    let (other, _) = w.holder("韩梅").await;
    let them = person(&other);
    for refused in [
        w.set(&them, &card, PIN).await.unwrap_err(),
        w.change(&them, &card, PIN, NEW_PIN, "theirs")
            .await
            .unwrap_err(),
    ] {
        assert_eq!(
            (refused.code(), reason(&refused)),
            (Code::PermissionDenied, "NOT_OWN_RECORD".into())
        );
    }
    let read = w
        .cards
        .get_pin_status(as_caller(
            &them,
            pb::GetPinStatusRequest {
                card_number: card.card_number.clone(),
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(reason(&read), "NOT_OWN_RECORD");
    // Partners may not set or reset a PIN, and persons may not verify one.
    let hospital = w.set("hospital:H-001", &card, PIN).await.unwrap_err();
    assert_eq!(hospital.code(), Code::PermissionDenied);
    let by_person = w
        .verify_with_code(&them, &card, &card.card_identification_code.clone(), PIN)
        .await
        .unwrap_err();
    assert_eq!(by_person.code(), Code::PermissionDenied);
}

#[tokio::test]
async fn hospitals_and_pharmacies_get_match_or_no_match_only_for_a_card_presented_with_its_code() {
    let mut w = world().await;
    let (holder, card) = w.holder("林静").await;
    assert_eq!(
        w.verify("hospital:H-001", &card, PIN).await,
        PinVerification::NotSet
    );
    w.set(&person(&holder), &card, PIN).await.unwrap();

    assert_eq!(
        w.verify("hospital:H-001", &card, PIN).await,
        PinVerification::Match
    );
    assert_eq!(
        w.verify("pharmacy:P-001", &card, PIN).await,
        PinVerification::Match
    );
    let code = card.card_identification_code.clone();
    let no = w
        .verify_with_code("pharmacy:P-001", &card, &code, WRONG_PIN)
        .await
        .unwrap();
    assert_eq!(
        (no.result(), no.attempts_left),
        (PinVerification::NoMatch, 4)
    );
    assert_eq!(
        w.verify("hospital:H-001", &card, PIN).await,
        PinVerification::Match
    );
    assert_eq!(
        w.status(&person(&holder), &card).await.attempts_left,
        5,
        "a match clears the count"
    );

    // Another card's code (or none) is a card that does not exist.
    let forged = CardIdentificationCode::new("110105", 0xF0F0_0000_0000_0001)
        .unwrap()
        .to_string();
    let unknown = w
        .verify_with_code("hospital:H-001", &card, &forged, PIN)
        .await
        .unwrap_err();
    assert_eq!(
        (unknown.code(), reason(&unknown)),
        (Code::NotFound, "CARD_NOT_FOUND".into())
    );
    let missing = w
        .verify_with_code("hospital:H-001", &card, "", PIN)
        .await
        .unwrap_err();
    assert_eq!(missing.code(), Code::InvalidArgument);

    let trail = audit_trail(&w.system.cards, &holder.person_id).await;
    let verifications = |access: &str| {
        trail
            .iter()
            .filter(|r| r.action == "VerifyPin" && r.access == access)
            .count()
    };
    assert_eq!(verifications("READ"), 4, "NOT_SET and three matches");
    assert_eq!(
        verifications("FAILED_ATTEMPT"),
        2,
        "the wrong PIN and the forged code"
    );
}

#[tokio::test]
async fn five_wrong_pins_lock_the_pin_for_everyone_until_the_counter_resets_it() {
    let mut w = world().await;
    let (holder, card) = w.holder("林静").await;
    let me = person(&holder);
    w.set(&me, &card, PIN).await.unwrap();

    for _ in 0..4 {
        assert_eq!(
            w.verify("hospital:H-001", &card, WRONG_PIN).await,
            PinVerification::NoMatch
        );
    }
    assert_eq!(
        w.verify("pharmacy:P-001", &card, WRONG_PIN).await,
        PinVerification::Locked
    );
    // Locked: the right PIN too, at every partner, and the holder's change.
    assert_eq!(
        w.verify("hospital:H-001", &card, PIN).await,
        PinVerification::Locked
    );
    assert_eq!(
        w.verify("pharmacy:P-001", &card, PIN).await,
        PinVerification::Locked
    );
    let change = w
        .change(&me, &card, PIN, NEW_PIN, "locked-change")
        .await
        .unwrap_err();
    assert_eq!(reason(&change), "PIN_LOCKED");
    assert_eq!(w.status(&me, &card).await.state(), PinState::Locked);

    let reset = w.reset(&card, NEW_PIN, "counter-reset-1").await.unwrap();
    assert_eq!(reset.state(), PinState::Set);
    assert_eq!(
        w.verify("hospital:H-001", &card, NEW_PIN).await,
        PinVerification::Match
    );
    assert_eq!(
        w.verify("hospital:H-001", &card, PIN).await,
        PinVerification::NoMatch
    );

    let trail = audit_trail(&w.system.cards, &holder.person_id).await;
    let failed = trail
        .iter()
        .filter(|r| r.access == "FAILED_ATTEMPT")
        .count();
    assert_eq!(
        failed,
        5 + 2 + 1,
        "five wrong, two while locked, one after the reset"
    );
    assert!(
        trail.iter().any(|r| r.action == "ResetPin"
            && r.actor == "operator:OP0001"
            && r.access == "CHANGE"),
        "the counter's reset is in the holder's trail"
    );
}

#[tokio::test]
async fn a_lost_card_s_pin_is_not_verified_and_its_replacement_starts_without_one() {
    let mut w = world().await;
    let (holder, card) = w.holder("林静").await;
    let me = person(&holder);
    w.set(&me, &card, PIN).await.unwrap();
    w.cards
        .report_loss(as_caller(
            &me,
            pb::ReportLossRequest {
                request_id: "lost-1".into(),
                card_number: card.card_number.clone(),
                reason: String::new(),
            },
        ))
        .await
        .unwrap();
    let code = card.card_identification_code.clone();
    let refused = w
        .verify_with_code("hospital:H-001", &card, &code, PIN)
        .await
        .unwrap_err();
    assert_eq!(
        (refused.code(), reason(&refused)),
        (Code::FailedPrecondition, "CARD_STATE_LOST".into())
    );
    let change = w
        .change(&me, &card, PIN, NEW_PIN, "lost-change")
        .await
        .unwrap_err();
    assert_eq!(reason(&change), "CARD_STATE_LOST");

    let new = w
        .cards
        .replace_card(operator(pb::ReplaceCardRequest {
            request_id: "replace-1".into(),
            card_number: card.card_number.clone(),
            reason: "lost".into(),
            generation: 3,
            bank_card_number: String::new(),
            bank_bin: journeys::BANK_BIN.into(),
        }))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(w.status(&me, &new).await.state(), PinState::NotSet);
    assert_eq!(
        w.verify("hospital:H-001", &new, PIN).await,
        PinVerification::NotSet
    );
    // Not yet in the holder's hands: only the counter sets its first PIN.
    let early = w.set(&me, &new, PIN).await.unwrap_err();
    assert_eq!(reason(&early), "CARD_STATE_ISSUED");
    w.reset(&new, PIN, "counter-first").await.unwrap();
    assert_eq!(
        w.verify("hospital:H-001", &new, PIN).await,
        PinVerification::Match
    );
}

#[tokio::test]
async fn a_hospital_without_designation_cannot_verify() {
    let mut w = world().await;
    let (holder, card) = w.holder("林静").await;
    w.set(&person(&holder), &card, PIN).await.unwrap();
    w.identity
        .set_partner_designation(operator(identity::SetPartnerDesignationRequest {
            request_id: "undesignate-h1".into(),
            code: "H-001".into(),
            designation_in_force: false,
            reason: "agreement ended".into(),
            collects_contributions: None,
        }))
        .await
        .unwrap();
    let code = card.card_identification_code.clone();
    let refused = w
        .verify_with_code("hospital:H-001", &card, &code, PIN)
        .await
        .unwrap_err();
    assert_eq!(reason(&refused), "PARTNER_NOT_DESIGNATED");
}

/// `pin` as a token of its own in `text` (not inside a longer number, a
/// hex id or a timestamp's fraction).
fn pin_appears(text: &str, pin: &str) -> bool {
    let boundary =
        |c: Option<char>| c.is_none_or(|c| !(c.is_ascii_alphanumeric() || c == '.' || c == '-'));
    text.match_indices(pin).any(|(at, _)| {
        boundary(text[..at].chars().next_back()) && boundary(text[at + pin.len()..].chars().next())
    })
}

#[tokio::test]
async fn the_pin_is_never_answered_logged_or_in_the_database_log() {
    let mut w = world().await;
    let (holder, card) = w.holder("林静").await;
    let me = person(&holder);
    let answers = [
        format!("{:?}", w.set(&me, &card, PIN).await.unwrap()),
        format!(
            "{:?}",
            w.change(&me, &card, WRONG_PIN, NEW_PIN, "leak-1")
                .await
                .unwrap_err()
        ),
        format!(
            "{:?}",
            w.change(&me, &card, PIN, NEW_PIN, "leak-2").await.unwrap()
        ),
        format!("{:?}", w.reset(&card, PIN, "leak-3").await.unwrap()),
        format!(
            "{:?}",
            w.verify_with_code(
                "hospital:H-001",
                &card,
                &card.card_identification_code.clone(),
                WRONG_PIN
            )
            .await
            .unwrap()
        ),
        format!("{:?}", w.status(&me, &card).await),
    ];
    for answer in &answers {
        for pin in [PIN, NEW_PIN, WRONG_PIN] {
            assert!(!answer.contains(pin), "an answer holds a PIN: {answer}");
        }
        assert!(!answer.contains("argon2"), "an answer holds a hash");
    }
    // Requests print masked, so a request logged with `?` leaks nothing.
    let request = pb::ChangePinRequest {
        request_id: "r".into(),
        card_number: card.card_number.clone(),
        current_pin: PIN.into(),
        new_pin: NEW_PIN.into(),
    };
    let printed = format!(
        "{request:?} {:?} {:?} {:?}",
        pb::SetPinRequest {
            pin: PIN.into(),
            ..Default::default()
        },
        pb::ResetPinRequest {
            new_pin: PIN.into(),
            ..Default::default()
        },
        pb::VerifyPinRequest {
            pin: PIN.into(),
            card: None
        },
    );
    assert!(
        !printed.contains(PIN) && !printed.contains(NEW_PIN),
        "{printed}"
    );

    let logged = logs::captured();
    for pin in [PIN, NEW_PIN, WRONG_PIN] {
        assert!(!pin_appears(&logged, pin), "a service log line holds a PIN");
    }
    let found = logs::personal_data_in_database_log(&[PIN, NEW_PIN, WRONG_PIN]);
    assert!(
        found.is_empty(),
        "the database log holds {} personal values",
        found.len()
    );
}

/// `request_hash` stored for `request_id` in card-issuance's idempotency table.
async fn stored_fingerprint(w: &World, request_id: &str) -> Vec<u8> {
    use sqlx::Connection;
    let mut conn = sqlx::PgConnection::connect(&w.system.database_url)
        .await
        .unwrap();
    sqlx::query_scalar(
        "SELECT request_hash FROM card_issuance.idempotency_keys WHERE request_id = $1",
    )
    .bind(request_id)
    .fetch_one(&mut conn)
    .await
    .unwrap()
}

#[tokio::test]
async fn a_request_id_reused_with_another_pin_is_refused_and_only_a_keyed_digest_is_kept() {
    let mut w = world().await;
    let (holder, card) = w.holder("林静").await;
    let me = person(&holder);
    let reused = |status: Status| {
        assert_eq!(
            (status.code(), reason(&status)),
            (Code::FailedPrecondition, "REQUEST_ID_REUSED".into())
        );
    };
    let set = |pin: &str| pb::SetPinRequest {
        request_id: "set-once".into(),
        card_number: card.card_number.clone(),
        pin: pin.into(),
    };

    // SetPin: the same PIN is a retry, another PIN a reuse.
    let first = w.cards.set_pin(as_caller(&me, set(PIN))).await.unwrap();
    let retried = w.cards.set_pin(as_caller(&me, set(PIN))).await.unwrap();
    assert_eq!(retried.into_inner(), first.into_inner());
    reused(
        w.cards
            .set_pin(as_caller(&me, set(NEW_PIN)))
            .await
            .unwrap_err(),
    );
    assert_eq!(
        w.verify("hospital:H-001", &card, PIN).await,
        PinVerification::Match
    );

    // Neither the request with its PIN nor without it hashes to what is
    // kept: the digest is keyed, so PINs cannot be tried against it offline.
    use prost::Message;
    use sha2::{Digest, Sha256};
    let kept = stored_fingerprint(&w, "set-once").await;
    for candidate in [set(PIN), set("")] {
        assert_ne!(kept, Sha256::digest(candidate.encode_to_vec()).to_vec());
    }

    // ChangePin: another current or new PIN under the same request id is a
    // reuse, refused before the current PIN is judged (nothing counted).
    let changed = w
        .change(&me, &card, PIN, NEW_PIN, "change-once")
        .await
        .unwrap();
    let again = w
        .change(&me, &card, PIN, NEW_PIN, "change-once")
        .await
        .unwrap();
    assert_eq!(again, changed);
    reused(
        w.change(&me, &card, PIN, WRONG_PIN, "change-once")
            .await
            .unwrap_err(),
    );
    reused(
        w.change(&me, &card, WRONG_PIN, NEW_PIN, "change-once")
            .await
            .unwrap_err(),
    );
    assert_eq!(w.status(&me, &card).await.attempts_left, 5);

    // ResetPin at the counter: likewise.
    let reset = w.reset(&card, PIN, "reset-once").await.unwrap();
    assert_eq!(w.reset(&card, PIN, "reset-once").await.unwrap(), reset);
    reused(w.reset(&card, WRONG_PIN, "reset-once").await.unwrap_err());
    assert_eq!(
        w.verify("hospital:H-001", &card, PIN).await,
        PinVerification::Match
    );
}
