//! `socsec ecard …`: the electronic social security card at card-issuance —
//! issued for a received card (as the person, `--token`, or at the counter
//! as an operator), and the short-lived QR token the person's app shows.

use clap::Subcommand;
use socsec_proto::card::v1 as card;

use super::RequestIdArg;
use crate::{
    connection::{Connection, Outcome},
    output::Printer,
};

#[derive(Subcommand)]
pub enum EcardCommand {
    /// Issues the e-card of a received third-generation card (or shows the
    /// one it has): as the holder (`--token`) or as an operator at the counter.
    Issue {
        #[command(flatten)]
        request_id: RequestIdArg,
        #[arg(long)]
        card: String,
    },
    /// A QR token for the e-card, valid about a minute: what a hospital or
    /// pharmacy presents as `--ecard-token`. As the holder (`--token`).
    Token {
        #[arg(long)]
        ecard_id: String,
    },
}

pub(super) async fn ecard(c: &Connection, command: EcardCommand, out: Printer) -> Outcome {
    let mut client = c.cards().await?;
    match command {
        EcardCommand::Issue { request_id, card } => {
            let answer = client
                .issue_ecard(c.request(card::IssueEcardRequest {
                    request_id: request_id.get(),
                    card_number: card,
                }))
                .await?;
            out.message("socsec.card.v1.Ecard", answer.get_ref());
        }
        EcardCommand::Token { ecard_id } => {
            let answer = client
                .issue_ecard_token(c.request(card::IssueEcardTokenRequest { ecard_id }))
                .await?;
            out.message("socsec.card.v1.EcardToken", answer.get_ref());
        }
    }
    Ok(())
}
