//! `socsec audit`: a person's audit trail, gathered from all four services.

use socsec_proto::{
    audit::v1::{self as audit, audit_service_client::AuditServiceClient},
    common::v1 as common,
};

use crate::{
    connection::{Connection, Outcome},
    output::Printer,
};

/// A person's audit trail from the four services, in time order.
pub(super) async fn trail(c: &Connection, person_id: String, out: Printer) -> Outcome {
    // Every service keeps its own trail; the person's is all four.
    let mut records = Vec::new();
    for url in [&c.identity, &c.cards, &c.activation, &c.contribution] {
        let mut audit = AuditServiceClient::new(c.channel(url).await?);
        let mut page_token = String::new();
        loop {
            let page = audit
                .list_audit_records(c.request(audit::ListAuditRecordsRequest {
                    person_id: person_id.clone(),
                    page: Some(common::PageRequest {
                        page_size: 500,
                        page_token,
                    }),
                }))
                .await?
                .into_inner();
            records.extend(page.records);
            page_token = page.page.unwrap_or_default().next_page_token;
            if page_token.is_empty() {
                break;
            }
        }
    }
    records.sort_by_key(|r| r.at.as_ref().map(|t| (t.seconds, t.nanos)));
    if out.json {
        let all = audit::ListAuditRecordsResponse {
            records,
            page: None,
        };
        out.message("socsec.audit.v1.ListAuditRecordsResponse", &all);
    } else {
        for r in &records {
            let at =
                r.at.as_ref()
                    .and_then(|t| chrono::DateTime::from_timestamp(t.seconds, t.nanos as u32))
                    .map(|t| t.to_rfc3339())
                    .unwrap_or_default();
            let service = r.service.split('.').nth(1).unwrap_or(&r.service);
            let actor = if r.on_behalf_of.is_empty() {
                r.actor.clone()
            } else {
                format!("{} for {}", r.actor, r.on_behalf_of)
            };
            println!(
                "{at}  {service:<12} {:<6} {:<26} {actor:<28} {}",
                r.access, r.action, r.request_id
            );
        }
    }
    Ok(())
}
