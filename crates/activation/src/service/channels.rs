//! The five activation channels. Each first answers a retry of a request
//! already answered from its stored answer (so it is answered while
//! identity or card-issuance is down); then checks what it can before the
//! transaction — the partner cache, the card as it stands (no lock), the
//! holder with identity, and the card's state with card-issuance if the
//! projection is not known to be current — in the order its callers have
//! always observed, then hands [`Activations::activate`] what it relied on
//! to re-check on the locked card.

use platform::{
    auth::Caller,
    mutation::{self, Mutation},
};
use socsec_proto::activation::v1 as pb;
use uuid::Uuid;

use super::{
    Activations, Result,
    activate::{Attempt, Presented},
};
use crate::{
    domain::{
        Channel, Partner, Refusal,
        command::{AtBankOutlet, AtHospital, AtPharmacy, ByHotline, WithFinancialFunction},
    },
    error::ActivationError,
    store::{self, CardRow},
};

/// The card is still held by the person the caller proved to be its holder.
fn held_by(card: &CardRow, holder: Uuid, refusal: Refusal) -> Result<(), Refusal> {
    if card.person_id == holder {
        Ok(())
    } else {
        Err(refusal)
    }
}

/// An outlet activates only its own bank's cards.
fn of_outlets_bank(card: &CardRow, outlet: &Partner) -> Result<(), Refusal> {
    if outlet.is_outlet_of(&card.bank_code) {
        Ok(())
    } else {
        Err(Refusal::CardOfAnotherBank)
    }
}

/// The bank enabling the financial function presents the card's own bank
/// card number, and is the card's bank.
fn financial_details(
    card: &CardRow,
    bank: &Caller,
    cmd: &WithFinancialFunction,
) -> Result<(), Refusal> {
    if card.bank_code != bank.code {
        return Err(Refusal::CardOfAnotherBank);
    }
    if card.bank_card_number != cmd.bank_card_number {
        return Err(Refusal::FinancialDetailsMismatch);
    }
    Ok(())
}

impl Activations {
    /// The answer this request was already given, if any: before any remote
    /// read, so a retry is answered while identity is down.
    async fn replayed<R: prost::Message>(
        &self,
        mutation: Mutation<'_>,
        request: &R,
    ) -> Result<Option<pb::Activation>> {
        Ok(mutation::replay(&self.pool, mutation, request).await?)
    }

    pub async fn at_bank_outlet(
        &self,
        caller: &Caller,
        cmd: AtBankOutlet,
        request: &pb::ActivateAtBankOutletRequest,
    ) -> Result<pb::Activation> {
        let mutation = Mutation::new(caller, "ActivateAtBankOutlet", &cmd.request_id);
        if let Some(answer) = self.replayed(mutation, request).await? {
            return Ok(answer);
        }
        let outlet = self.partners.in_force(caller, &self.directory).await?;
        let _presenting = self.ensure_may_present(caller).await?;
        let card = self
            .presented_card(
                caller,
                "ActivateAtBankOutlet",
                &cmd.card_number,
                cmd.identification_code.as_ref(),
                cmd.request_id.as_str(),
            )
            .await?;
        of_outlets_bank(&card, &outlet)?;
        // The holder first: a card's state is no business of someone who
        // does not hold the holder's ID number.
        let holder = card.person_id;
        if !self
            .directory
            .is_holder(
                &holder.to_string(),
                cmd.id_number.expose(),
                caller,
                cmd.request_id.as_str(),
            )
            .await?
        {
            self.failed_presentation(
                caller,
                "ActivateAtBankOutlet",
                Some(holder),
                Some(cmd.request_id.as_str()),
            )
            .await?;
            return Err(ActivationError::HolderMismatch);
        }
        let verified_state = self.verified_state(caller, &cmd.card_number).await?;
        let attempt = Attempt {
            presented: Presented::Number(&cmd.card_number),
            channel: Channel::BankOutlet,
            partner_code: &caller.code,
            operator_id: &cmd.operator_id,
            legacy_card_number: None,
            refused_after_state: None,
            verified_state,
        };
        self.activate(mutation, request, attempt, |card| {
            of_outlets_bank(card, &outlet)?;
            held_by(card, holder, Refusal::HolderMismatch)
        })
        .await
    }

    pub async fn at_hospital(
        &self,
        caller: &Caller,
        cmd: AtHospital,
        request: &pb::ActivateAtHospitalRequest,
    ) -> Result<pb::Activation> {
        let mutation = Mutation::new(caller, "ActivateAtHospital", &cmd.request_id);
        if let Some(answer) = self.replayed(mutation, request).await? {
            return Ok(answer);
        }
        self.partners.in_force(caller, &self.directory).await?;
        let _presenting = self.ensure_may_present(caller).await?;
        let (card_number, code) = self
            .shown_card(
                caller,
                "ActivateAtHospital",
                &cmd.card,
                cmd.request_id.as_str(),
            )
            .await?;
        self.presented_card(
            caller,
            "ActivateAtHospital",
            &card_number,
            code.as_ref(),
            cmd.request_id.as_str(),
        )
        .await?;
        let verified_state = self.verified_state(caller, &card_number).await?;
        let attempt = Attempt {
            presented: Presented::Number(&card_number),
            channel: Channel::Hospital,
            partner_code: &caller.code,
            operator_id: &cmd.operator_id,
            legacy_card_number: None,
            refused_after_state: None,
            verified_state,
        };
        self.activate(mutation, request, attempt, |_| Ok(())).await
    }

    pub async fn at_pharmacy(
        &self,
        caller: &Caller,
        cmd: AtPharmacy,
        request: &pb::ActivateAtPharmacyRequest,
    ) -> Result<pb::Activation> {
        let mutation = Mutation::new(caller, "ActivateAtPharmacy", &cmd.request_id);
        if let Some(answer) = self.replayed(mutation, request).await? {
            return Ok(answer);
        }
        self.partners.in_force(caller, &self.directory).await?;
        let _presenting = self.ensure_may_present(caller).await?;
        let (card_number, code) = self
            .shown_card(
                caller,
                "ActivateAtPharmacy",
                &cmd.card,
                cmd.request_id.as_str(),
            )
            .await?;
        self.presented_card(
            caller,
            "ActivateAtPharmacy",
            &card_number,
            code.as_ref(),
            cmd.request_id.as_str(),
        )
        .await?;
        let verified_state = self.verified_state(caller, &card_number).await?;
        let attempt = Attempt {
            presented: Presented::Number(&card_number),
            channel: Channel::Pharmacy,
            partner_code: &caller.code,
            operator_id: &cmd.operator_id,
            legacy_card_number: Some(&cmd.legacy_card_number),
            refused_after_state: None,
            verified_state,
        };
        self.activate(mutation, request, attempt, |_| Ok(())).await
    }

    pub async fn with_financial_function(
        &self,
        caller: &Caller,
        cmd: WithFinancialFunction,
        request: &pb::ActivateWithFinancialFunctionRequest,
    ) -> Result<pb::Activation> {
        let mutation = Mutation::new(caller, "ActivateWithFinancialFunction", &cmd.request_id);
        if let Some(answer) = self.replayed(mutation, request).await? {
            return Ok(answer);
        }
        self.partners.in_force(caller, &self.directory).await?;
        let _presenting = self.ensure_may_present(caller).await?;
        let action = "ActivateWithFinancialFunction";
        let request_id = Some(cmd.request_id.as_str());
        let Some(card) = store::card_by_serial(&self.pool, &cmd.serial_number).await? else {
            self.failed_presentation(caller, action, None, request_id)
                .await?;
            return Err(ActivationError::FinancialDetailsMismatch);
        };
        if let Err(refusal) = financial_details(&card, caller, &cmd) {
            if refusal == Refusal::FinancialDetailsMismatch {
                self.failed_presentation(caller, action, Some(card.person_id), request_id)
                    .await?;
            }
            return Err(refusal.into());
        }
        let holder = card.person_id;
        let is_holder = self
            .directory
            .is_holder(
                &holder.to_string(),
                cmd.id_number.expose(),
                caller,
                cmd.request_id.as_str(),
            )
            .await?;
        if !is_holder {
            self.failed_presentation(caller, action, Some(holder), request_id)
                .await?;
        }
        // On this channel the card's state has always been checked before
        // the holder: a wrong ID number is told after the locked card's state.
        let verified_state = self.verified_state(caller, &card.card_number).await?;
        let attempt = Attempt {
            presented: Presented::Serial(&cmd.serial_number),
            channel: Channel::FinancialFunction,
            partner_code: &caller.code,
            operator_id: "",
            legacy_card_number: None,
            refused_after_state: (!is_holder).then_some(Refusal::FinancialDetailsMismatch),
            verified_state,
        };
        self.activate(mutation, request, attempt, |card| {
            financial_details(card, caller, &cmd)?;
            held_by(card, holder, Refusal::FinancialDetailsMismatch)
        })
        .await
    }

    pub async fn by_hotline(
        &self,
        caller: &Caller,
        cmd: ByHotline,
        request: &pb::ActivateByHotlineRequest,
    ) -> Result<pb::Activation> {
        let mutation = Mutation::new(caller, "ActivateByHotline", &cmd.request_id);
        if let Some(answer) = self.replayed(mutation, request).await? {
            return Ok(answer);
        }
        self.partners.in_force(caller, &self.directory).await?;
        let _presenting = self.ensure_may_present(caller).await?;
        let action = "ActivateByHotline";
        let request_id = Some(cmd.request_id.as_str());
        // By phone, no card is read: the caller gives its number, and the
        // holder is verified by ID number and name instead of the code.
        let Some(card) = store::card_by_number(&self.pool, &cmd.card_number).await? else {
            self.failed_presentation(caller, action, None, request_id)
                .await?;
            return Err(ActivationError::CardNotFound);
        };
        // ID number and name first: a caller who cannot give them learns
        // nothing of the card's state.
        let person = self
            .directory
            .verified_person(
                cmd.id_number.expose(),
                cmd.name.expose(),
                caller,
                cmd.request_id.as_str(),
            )
            .await?;
        let holder = card.person_id;
        if person.as_deref() != Some(holder.to_string().as_str()) {
            self.failed_presentation(caller, action, Some(holder), request_id)
                .await?;
            return Err(ActivationError::HolderMismatch);
        }
        let verified_state = self.verified_state(caller, &cmd.card_number).await?;
        let attempt = Attempt {
            presented: Presented::Number(&cmd.card_number),
            channel: Channel::Hotline,
            partner_code: &caller.code,
            operator_id: &cmd.agent_id,
            legacy_card_number: None,
            refused_after_state: None,
            verified_state,
        };
        self.activate(mutation, request, attempt, |card| {
            held_by(card, holder, Refusal::HolderMismatch)
        })
        .await
    }
}
