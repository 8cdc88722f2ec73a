//! `socsec card …`: a card's life at card-issuance, from application to
//! cancellation, and old medical insurance cards.

use clap::Subcommand;
use futures::StreamExt;
use socsec_proto::card::v1 as card;

use super::{RequestIdArg, pins::PinCommand, progress_bar};
use crate::{
    connection::{Connection, Outcome},
    output::Printer,
};

#[derive(Subcommand)]
pub enum CardCommand {
    /// Applies for a card for a confirmed person, through a cooperating bank.
    Apply {
        #[command(flatten)]
        request_id: RequestIdArg,
        #[arg(long)]
        person_id: String,
        #[arg(long)]
        bank: String,
    },
    /// Issues the card of one application.
    Issue {
        #[command(flatten)]
        request_id: RequestIdArg,
        #[arg(long)]
        application_id: String,
        #[arg(long)]
        bin: String,
    },
    /// Issues a bank's pending applications in one request, with a progress bar.
    IssueBatch {
        #[command(flatten)]
        request_id: RequestIdArg,
        #[arg(long)]
        bank: String,
        #[arg(long)]
        bin: String,
        #[arg(long, default_value_t = 100_000)]
        max: i32,
    },
    /// Records that the holder received the card: its activation window starts.
    Receive {
        #[command(flatten)]
        request_id: RequestIdArg,
        #[arg(long)]
        card: String,
    },
    /// Reports a card lost.
    Lose {
        #[command(flatten)]
        request_id: RequestIdArg,
        #[arg(long)]
        card: String,
    },
    /// Replaces a card with a new one, with the reason.
    Replace {
        #[command(flatten)]
        request_id: RequestIdArg,
        #[arg(long)]
        card: String,
        #[arg(long)]
        reason: String,
        #[arg(long)]
        bin: String,
    },
    /// Cancels a card, with the reason.
    Cancel {
        #[command(flatten)]
        request_id: RequestIdArg,
        #[arg(long)]
        card: String,
        #[arg(long)]
        reason: String,
    },
    /// Shows a card by its card number.
    Get {
        #[arg(long)]
        card: String,
    },
    /// Lists a person's cards, each with its history.
    List {
        #[arg(long)]
        person_id: String,
    },
    /// Registers a person's old medical insurance card.
    Legacy {
        #[command(flatten)]
        request_id: RequestIdArg,
        #[arg(long)]
        number: String,
        #[arg(long)]
        person_id: String,
        #[arg(long)]
        region: String,
    },
    /// The card's medical-settlement PIN: set, change, reset, verify, status.
    Pin {
        #[command(subcommand)]
        command: PinCommand,
    },
}

pub(super) async fn cards(c: &Connection, command: CardCommand, out: Printer) -> Outcome {
    let mut cards = c.cards().await?;
    const CARD: &str = "socsec.card.v1.Card";
    match command {
        CardCommand::Apply {
            request_id,
            person_id,
            bank,
        } => {
            let answer = cards
                .apply_for_card(c.request(card::ApplyForCardRequest {
                    request_id: request_id.get(),
                    person_id,
                    bank_code: bank,
                    issuing_region_code: String::new(),
                }))
                .await?;
            out.message("socsec.card.v1.CardApplication", answer.get_ref());
        }
        CardCommand::Issue {
            request_id,
            application_id,
            bin,
        } => {
            let answer = cards
                .issue_card(c.request(card::IssueCardRequest {
                    request_id: request_id.get(),
                    application_id,
                    generation: 3,
                    bank_card_number: String::new(),
                    bank_bin: bin,
                }))
                .await?;
            out.message(CARD, answer.get_ref());
        }
        CardCommand::IssueBatch {
            request_id,
            bank,
            bin,
            max,
        } => {
            let mut stream = cards
                .issue_cards(c.request(card::IssueCardsRequest {
                    request_id: request_id.get(),
                    bank_code: bank,
                    bank_bin: bin,
                    generation: 3,
                    max_cards: max,
                }))
                .await?
                .into_inner();
            let bar = progress_bar(out, "cards");
            while let Some(progress) = stream.next().await {
                let progress = progress?;
                bar.set_length(progress.total.max(0) as u64);
                bar.set_position(progress.issued.max(0) as u64);
                if progress.done {
                    bar.finish();
                    out.message("socsec.card.v1.IssueCardsProgress", &progress);
                }
            }
        }
        CardCommand::Receive { request_id, card } => {
            let answer = cards
                .record_receipt(c.request(card::RecordReceiptRequest {
                    request_id: request_id.get(),
                    card_number: card,
                }))
                .await?;
            out.message(CARD, answer.get_ref());
        }
        CardCommand::Lose { request_id, card } => {
            let answer = cards
                .report_loss(c.request(card::ReportLossRequest {
                    request_id: request_id.get(),
                    card_number: card,
                    reason: String::new(),
                }))
                .await?;
            out.message(CARD, answer.get_ref());
        }
        CardCommand::Replace {
            request_id,
            card,
            reason,
            bin,
        } => {
            let answer = cards
                .replace_card(c.request(card::ReplaceCardRequest {
                    request_id: request_id.get(),
                    card_number: card,
                    reason,
                    generation: 3,
                    bank_card_number: String::new(),
                    bank_bin: bin,
                }))
                .await?;
            out.message(CARD, answer.get_ref());
        }
        CardCommand::Cancel {
            request_id,
            card,
            reason,
        } => {
            let answer = cards
                .cancel_card(c.request(card::CancelCardRequest {
                    request_id: request_id.get(),
                    card_number: card,
                    reason,
                }))
                .await?;
            out.message(CARD, answer.get_ref());
        }
        CardCommand::Get { card } => {
            let answer = cards
                .get_card(c.request(card::GetCardRequest {
                    key: Some(card::get_card_request::Key::CardNumber(card)),
                }))
                .await?;
            out.message(CARD, answer.get_ref());
        }
        CardCommand::List { person_id } => {
            let answer = cards
                .list_person_cards(c.request(card::ListPersonCardsRequest { person_id }))
                .await?;
            out.message("socsec.card.v1.ListPersonCardsResponse", answer.get_ref());
        }
        CardCommand::Legacy {
            request_id,
            number,
            person_id,
            region,
        } => {
            let answer = cards
                .register_legacy_medical_card(c.request(card::RegisterLegacyMedicalCardRequest {
                    request_id: request_id.get(),
                    card_number: number,
                    person_id,
                    region_code: region,
                }))
                .await?;
            out.message("socsec.card.v1.LegacyMedicalCard", answer.get_ref());
        }
        CardCommand::Pin { command } => super::pins::pins(c, command, out).await?,
    }
    Ok(())
}
