//! Imports of enrolments and wage history from the system a bureau
//! replaces. Per batch: the stored answer if the batch was sent before;
//! the holders asked of identity in one call, and for enrolments the
//! regions and employers checked as `Enrol` checks them (outside any
//! transaction); then one trip through the mutation pipeline that checks
//! each record against the stored enrolments (`domain::enrolment`), stores
//! the valid ones in one multi-row statement per table, and audits each
//! person whose record changed. `Enrol` and `DeclareWage` publish no
//! event; neither do their imports.

use std::collections::{BTreeMap, BTreeSet, HashSet};

use futures::{StreamExt, TryStreamExt};
use pii::PartnerCode;
use platform::{
    auth::{Caller, CallerKind},
    import::{self, Batch, Rejection, Resolved},
    mutation::{self, Audit, Effects, Events, Mutation},
};
use socsec_proto::contribution::v1 as pb;
use uuid::Uuid;

use super::{ContributionService, Result};
use crate::{
    domain::{
        Enrolled, Enrolling, Enrolment, Payer, access,
        commands::{ImportEnrolment, ImportWage},
        enrolment::{self, Import},
    },
    error::ContributionError,
    store::{self, WageRow},
};

/// How many employers of one batch are asked of identity at once.
const EMPLOYER_LOOKUPS: usize = 8;

impl ContributionService {
    /// Names each record's holder, who must be registered and confirmed.
    async fn resolve<'a, T>(
        &self,
        caller: &Caller,
        batch: &'a Batch<T>,
        holder: impl Fn(&T) -> &pii::IdNumber,
    ) -> Result<Resolved<'a, T>> {
        let request_id = batch.request_id.as_str();
        import::resolve_holders(batch, holder, true, async |wanted| {
            self.directory.holders(wanted, caller, request_id).await
        })
        .await
    }

    /// Rejects the records whose region has no rate table (`REGION_UNKNOWN`)
    /// or whose employer is not a registered employer in force
    /// (`PAYER_NOT_REGISTERED`), as `Enrol` refuses them.
    async fn check_payers(&self, resolved: &mut Resolved<'_, ImportEnrolment>) -> Result<()> {
        let valid = import::valid(resolved);
        let regions: BTreeSet<&str> = valid.iter().map(|(e, _)| e.region_code.as_str()).collect();
        let regions: Vec<&str> = regions.into_iter().collect();
        let known = store::regions_known(&self.pool, &regions).await?;
        let employers: BTreeMap<&str, &PartnerCode> = valid
            .iter()
            .filter_map(|(e, _)| match &e.enrolling {
                Enrolling::Employee { employer } => Some((employer.as_str(), employer)),
                _ => None,
            })
            .collect();
        let employers: Vec<PartnerCode> = employers.into_values().cloned().collect();
        let checks = employers.into_iter().map(|employer| {
            let directory = self.directory.clone();
            async move {
                match directory
                    .ensure_partner(&employer, CallerKind::Employer)
                    .await
                {
                    Ok(()) => Ok(None),
                    Err(ContributionError::PayerNotRegistered) => {
                        Ok(Some(employer.as_str().to_owned()))
                    }
                    Err(e) => Err(e),
                }
            }
        });
        let refused: HashSet<String> = futures::stream::iter(checks)
            .buffer_unordered(EMPLOYER_LOOKUPS)
            .try_filter_map(|refused| futures::future::ready(Ok(refused)))
            .try_collect()
            .await?;
        for (_, record) in resolved.iter_mut() {
            let Ok((e, _)) = record else { continue };
            if !known.contains(&e.region_code) {
                *record = Err(Rejection::new("region_code", "REGION_UNKNOWN"));
            } else if let Enrolling::Employee { employer } = &e.enrolling
                && refused.contains(employer.as_str())
            {
                *record = Err(Rejection::new("employer_code", "PAYER_NOT_REGISTERED"));
            }
        }
        Ok(())
    }

    pub async fn import_enrolments(
        &self,
        caller: &Caller,
        batch: Batch<ImportEnrolment>,
        request: &pb::ImportEnrolmentsRequest,
    ) -> Result<pb::ImportEnrolmentsResponse> {
        let mutation = Mutation::new(caller, "ImportEnrolments", &batch.request_id);
        if let Some(answer) = mutation::replay(&self.pool, mutation, request).await? {
            return Ok(answer);
        }
        let mut resolved = self.resolve(caller, &batch, |e| &e.holder).await?;
        self.check_payers(&mut resolved).await?;
        let valid = import::valid(&resolved);
        let persons: Vec<Uuid> = valid.iter().map(|(_, p)| *p).collect();
        let mut types: Vec<_> = valid.iter().map(|(e, _)| e.insurance_type).collect();
        types.sort_by_key(|t| t.as_str());
        types.dedup();
        let answer = mutation::run(&self.pool, mutation, request, async |conn| {
            // As `Enrol`: no other enrolment of these persons meanwhile.
            store::lock_persons(conn, &persons).await?;
            let mut enrolled = store::enrolled(&mut *conn, &persons, &types).await?;
            let mut new = Vec::new();
            let mut stored = Vec::with_capacity(valid.len());
            for (e, person_id) in &valid {
                let scheme = e.enrolling.scheme();
                let decided = enrolment::import(
                    &enrolled,
                    *person_id,
                    &e.region_code,
                    e.insurance_type,
                    scheme,
                    e.term,
                );
                stored.push(match decided {
                    Import::AlreadyHere(id) => import::Stored::AlreadyHere(id.to_string()),
                    Import::Overlaps => {
                        import::Stored::Rejected(Rejection::new("start", "ENROLMENT_OVERLAPS"))
                    }
                    Import::New => {
                        let channel = access::enrolment_channel(caller, scheme, *person_id)
                            .ok_or(ContributionError::NotOwnRecord)?;
                        let made = imported(e, *person_id, channel);
                        enrolled.push(Enrolled {
                            enrolment_id: made.enrolment_id,
                            person_id: *person_id,
                            insurance_type: e.insurance_type,
                            region_code: e.region_code.clone(),
                            term: e.term,
                            under_contract: false,
                        });
                        let key = made.enrolment_id.to_string();
                        new.push(made);
                        import::Stored::Imported(key)
                    }
                });
            }
            store::insert_enrolments(conn, &new, self.clock.now()).await?;
            let outcomes = import::outcomes(&resolved, stored);
            Ok::<_, ContributionError>(Effects::new(
                pb::ImportEnrolmentsResponse { outcomes },
                Events::none(),
                Audit::changes(distinct(new.iter().map(|e| e.person_id))),
            ))
        })
        .await?;
        tracing::info!(records = answer.outcomes.len(), by = %caller, "enrolments import batch");
        Ok(answer)
    }

    pub async fn import_wages(
        &self,
        caller: &Caller,
        batch: Batch<ImportWage>,
        request: &pb::ImportWagesRequest,
    ) -> Result<pb::ImportWagesResponse> {
        let mutation = Mutation::new(caller, "ImportWages", &batch.request_id);
        if let Some(answer) = mutation::replay(&self.pool, mutation, request).await? {
            return Ok(answer);
        }
        let resolved = self.resolve(caller, &batch, |w| &w.holder).await?;
        let valid = import::valid(&resolved);
        let persons: Vec<Uuid> = valid.iter().map(|(_, p)| *p).collect();
        let by = caller.to_string();
        let request_id = batch.request_id.as_str();
        let answer = mutation::run(&self.pool, mutation, request, async |conn| {
            let first = store::first_enrolment_starts(&mut *conn, &persons).await?;
            let declarable: Vec<bool> = valid
                .iter()
                .map(|(w, p)| enrolment::wage_declarable(first.get(p).copied(), w.month))
                .collect();
            let rows: Vec<WageRow> = valid
                .iter()
                .zip(&declarable)
                .filter(|(_, ok)| **ok)
                .map(|((w, person_id), _)| WageRow {
                    person_id: *person_id,
                    period: w.month,
                    wage: w.monthly_wage,
                })
                .collect();
            let at = self.clock.now();
            let mut inserted = store::import_wages(conn, &rows, &by, at, request_id)
                .await?
                .into_iter();
            let mut changed = Vec::new();
            let stored: Vec<import::Stored> = valid
                .iter()
                .zip(&declarable)
                .map(|((_, person_id), ok)| {
                    let key = person_id.to_string();
                    if !ok {
                        import::Stored::Rejected(Rejection::new("month", "PERIOD_BEFORE_ENROLMENT"))
                    } else if inserted.next() == Some(true) {
                        changed.push(*person_id);
                        import::Stored::Imported(key)
                    } else {
                        import::Stored::AlreadyHere(key)
                    }
                })
                .collect();
            let outcomes = import::outcomes(&resolved, stored);
            Ok::<_, ContributionError>(Effects::new(
                pb::ImportWagesResponse { outcomes },
                Events::none(),
                Audit::changes(distinct(changed.into_iter())),
            ))
        })
        .await?;
        tracing::info!(records = answer.outcomes.len(), by = %caller, "wages import batch");
        Ok(answer)
    }
}

/// An enrolment as `Enrol` makes one, for an imported record.
fn imported(
    e: &ImportEnrolment,
    person_id: Uuid,
    channel: crate::domain::EnrolmentChannel,
) -> Enrolment {
    let (payer, employer) = match &e.enrolling {
        Enrolling::Employee { employer } => {
            (Payer::Employer(employer.clone()), Some(employer.clone()))
        }
        _ => (Payer::Person(person_id), None),
    };
    Enrolment {
        enrolment_id: Uuid::now_v7(),
        person_id,
        region_code: e.region_code.clone(),
        insurance_type: e.insurance_type,
        scheme: e.enrolling.scheme(),
        employer,
        contract_id: None,
        payer,
        start: e.term.start,
        end: e.term.end,
        channel,
    }
}

/// Each person once, for the audit trail.
fn distinct(persons: impl Iterator<Item = Uuid>) -> Vec<String> {
    let unique: BTreeSet<Uuid> = persons.collect();
    unique.iter().map(Uuid::to_string).collect()
}
