//! Old medical insurance cards: registered by the counter, retired when the
//! new card is first used at a pharmacy (activation's relay asks).

use platform::{
    auth::Caller,
    mutation::{self, Audit, Effects, Events, Mutation},
};
use socsec_proto::card::v1 as pb;

use super::{Cards, RegisterLegacyCard, Result, RetireLegacyCard};
use crate::{
    api::{events, present},
    domain::legacy,
    error::CardError,
    store::{self, CardKey},
};

impl Cards {
    pub async fn register_legacy_card(
        &self,
        caller: &Caller,
        command: RegisterLegacyCard,
        request: &pb::RegisterLegacyMedicalCardRequest,
    ) -> Result<pb::LegacyMedicalCard> {
        let RegisterLegacyCard {
            request_id,
            card_number,
            person_id,
            region,
        } = command;
        let mutation = Mutation::new(caller, "RegisterLegacyMedicalCard", &request_id);
        if let Some(answer) = mutation::replay(&self.pool, mutation, request).await? {
            return Ok(answer);
        }
        // The person must exist: identity's word, read before the transaction.
        self.directory
            .person(person_id, caller, request_id.as_str())
            .await?;
        let at = self.clock.now();
        mutation::run(
            &self.pool,
            mutation,
            request,
            async |conn| -> Result<Effects<_>> {
                let row = store::insert_legacy_card(conn, &card_number, person_id, &region, at)
                    .await?
                    .ok_or(CardError::LegacyCardAlreadyRegistered)?;
                let answer = present::legacy_card(&row);
                Ok(Effects::new(
                    answer.clone(),
                    Events::many([events::legacy_registered(answer)]),
                    Audit::change(person_id),
                ))
            },
        )
        .await
    }

    pub async fn retire_legacy_card(
        &self,
        caller: &Caller,
        command: RetireLegacyCard,
        request: &pb::RetireLegacyMedicalCardRequest,
    ) -> Result<pb::LegacyMedicalCard> {
        let RetireLegacyCard {
            request_id,
            card_number,
            replaced_by,
        } = command;
        let at = self.clock.now();
        mutation::run(
            &self.pool,
            Mutation::new(caller, "RetireLegacyMedicalCard", &request_id),
            request,
            async |conn| -> Result<Effects<_>> {
                let old = store::lock_legacy_card(conn, &card_number)
                    .await?
                    .ok_or(CardError::LegacyCardNotFound)?;
                old.status.ensure_active()?;
                let new = store::card(&mut *conn, &CardKey::Number(replaced_by.clone()))
                    .await?
                    .ok_or(CardError::CardNotFound)?;
                legacy::ensure_same_holder(old.person_id, new.person_id)?;
                let row = store::retire_legacy_card(conn, &card_number, &replaced_by, at).await?;
                let answer = present::legacy_card(&row);
                Ok(Effects::new(
                    answer.clone(),
                    Events::many([events::legacy_retired(answer)]),
                    Audit::change(row.person_id),
                ))
            },
        )
        .await
    }
}
