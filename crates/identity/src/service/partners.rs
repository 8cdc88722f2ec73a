//! The partner registry: registration, designation, reads.

use platform::{
    auth::Caller,
    error::FieldViolations,
    mutation::{self, Audit, Effects, Mutation},
};
use socsec_proto::identity::v1 as pb;

use super::{Identity, Result, Work};
use crate::{
    api::present::{self, events},
    domain::{PartnerKind, commands::*, partner::ensure_parent_is_bank},
    error::IdentityError,
    store::{self, PartnerRow},
};

impl Identity {
    pub async fn register_partner(
        &self,
        caller: &Caller,
        command: RegisterPartner,
        request: &pb::RegisterPartnerRequest,
    ) -> Result<pb::Partner> {
        let RegisterPartner {
            request_id,
            partner,
        } = command;
        let now = self.clock.now();
        let mutation = Mutation::new(caller, "RegisterPartner", &request_id);
        let answer = mutation::run(
            &self.pool,
            mutation,
            request,
            async |conn| -> Work<pb::Partner> {
                if let Some(parent) = &partner.parent_code {
                    let parent = store::partner_by_code(&mut *conn, parent.as_str()).await?;
                    ensure_parent_is_bank(parent.map(|p| p.kind))?;
                }
                let row = store::insert_partner(conn, &partner, now)
                    .await?
                    .ok_or(IdentityError::PartnerAlreadyRegistered)?;
                let answer = present::partner(&row);
                // An organisation's registration, no person's data: no audit entry.
                Ok(Effects::new(
                    answer.clone(),
                    events::partner_changed(answer),
                    Audit::none(),
                ))
            },
        )
        .await?;
        tracing::info!(code = %answer.code, kind = partner.kind.as_str(), by = %caller, "partner registered");
        Ok(answer)
    }

    pub async fn set_partner_designation(
        &self,
        caller: &Caller,
        command: SetPartnerDesignation,
        request: &pb::SetPartnerDesignationRequest,
    ) -> Result<pb::Partner> {
        let SetPartnerDesignation {
            request_id,
            code,
            in_force,
            reason,
            collects_contributions,
        } = command;
        let now = self.clock.now();
        let mutation = Mutation::new(caller, "SetPartnerDesignation", &request_id);
        let answer = mutation::run(
            &self.pool,
            mutation,
            request,
            async |conn| -> Work<pb::Partner> {
                let row =
                    store::set_designation(conn, &code, in_force, collects_contributions, now)
                        .await?
                        .ok_or(IdentityError::PartnerNotFound)?;
                if collects_contributions == Some(true) && row.kind != PartnerKind::Bank {
                    let mut v = FieldViolations::new();
                    v.add(
                        "collects_contributions",
                        "COLLECTION_ONLY_FOR_BANKS",
                        "only a bank may collect contributions",
                    );
                    return Err(IdentityError::Invalid(v.into_status()));
                }
                let answer = present::partner(&row);
                Ok(Effects::new(
                    answer.clone(),
                    events::partner_changed(answer),
                    Audit::none(),
                ))
            },
        )
        .await?;
        tracing::info!(code = %answer.code, in_force = answer.designation_in_force, collects = answer.collects_contributions, by = %caller, reason = %reason, "partner designation changed");
        Ok(answer)
    }

    pub async fn get_partner(&self, code: &pii::PartnerCode) -> Result<PartnerRow> {
        store::partner_by_code(&self.admission, code.as_str())
            .await?
            .ok_or(IdentityError::PartnerNotFound)
    }

    /// A page of partners, and the token of the next page.
    pub async fn list_partners(&self, query: ListPartners) -> Result<(Vec<PartnerRow>, String)> {
        let ListPartners { kind, page } = query;
        let rows = store::list_partners(
            &self.pool,
            kind,
            page.after.as_deref().unwrap_or(""),
            page.size,
        )
        .await?;
        let last = rows.last().map(|r| r.code.as_str().to_owned());
        let next_page_token = page.next_token(rows.len(), last.as_ref());
        Ok((rows, next_page_token))
    }
}
