//! `socsec card pin …`: the medical-settlement PIN of a card. PINs are read
//! from the environment when not given (`SOCSEC_PIN`, `SOCSEC_CURRENT_PIN`,
//! `SOCSEC_NEW_PIN`), so they need not appear on a command line; they are
//! never printed.

use clap::Subcommand;
use socsec_proto::card::v1 as card;

use super::RequestIdArg;
use crate::{
    connection::{Connection, Outcome},
    output::Printer,
};

#[derive(Subcommand)]
pub enum PinCommand {
    /// The holder sets the first PIN of their received card (`--token`).
    Set {
        #[command(flatten)]
        request_id: RequestIdArg,
        #[arg(long)]
        card: String,
        /// 6 digits, not trivial.
        #[arg(long, env = "SOCSEC_PIN", hide_env_values = true)]
        pin: String,
    },
    /// The holder changes the PIN with the current one (`--token`).
    Change {
        #[command(flatten)]
        request_id: RequestIdArg,
        #[arg(long)]
        card: String,
        #[arg(long, env = "SOCSEC_CURRENT_PIN", hide_env_values = true)]
        current_pin: String,
        #[arg(long, env = "SOCSEC_NEW_PIN", hide_env_values = true)]
        new_pin: String,
    },
    /// Sets a new PIN at the counter and unlocks a locked one (operators).
    Reset {
        #[command(flatten)]
        request_id: RequestIdArg,
        #[arg(long)]
        card: String,
        #[arg(long, env = "SOCSEC_NEW_PIN", hide_env_values = true)]
        new_pin: String,
    },
    /// Checks the PIN presented with a card (hospitals, pharmacies).
    Verify {
        #[arg(long)]
        card: String,
        /// The 32-character card identification code read from the chip.
        #[arg(long)]
        code: String,
        #[arg(long, env = "SOCSEC_PIN", hide_env_values = true)]
        pin: String,
    },
    /// Whether the card has a PIN and whether it is locked.
    Status {
        #[arg(long)]
        card: String,
    },
}

pub(super) async fn pins(c: &Connection, command: PinCommand, out: Printer) -> Outcome {
    let mut cards = c.cards().await?;
    const STATUS: &str = "socsec.card.v1.PinStatus";
    match command {
        PinCommand::Set {
            request_id,
            card,
            pin,
        } => {
            let answer = cards
                .set_pin(c.request(card::SetPinRequest {
                    request_id: request_id.get(),
                    card_number: card,
                    pin,
                }))
                .await?;
            out.message(STATUS, answer.get_ref());
        }
        PinCommand::Change {
            request_id,
            card,
            current_pin,
            new_pin,
        } => {
            let answer = cards
                .change_pin(c.request(card::ChangePinRequest {
                    request_id: request_id.get(),
                    card_number: card,
                    current_pin,
                    new_pin,
                }))
                .await?;
            out.message(STATUS, answer.get_ref());
        }
        PinCommand::Reset {
            request_id,
            card,
            new_pin,
        } => {
            let answer = cards
                .reset_pin(c.request(card::ResetPinRequest {
                    request_id: request_id.get(),
                    card_number: card,
                    new_pin,
                }))
                .await?;
            out.message(STATUS, answer.get_ref());
        }
        PinCommand::Verify { card, code, pin } => {
            let answer = cards
                .verify_pin(c.request(card::VerifyPinRequest {
                    card: Some(card::CardPresentation {
                        card_number: card,
                        card_identification_code: code,
                    }),
                    pin,
                }))
                .await?;
            out.message("socsec.card.v1.VerifyPinResponse", answer.get_ref());
        }
        PinCommand::Status { card } => {
            let answer = cards
                .get_pin_status(c.request(card::GetPinStatusRequest { card_number: card }))
                .await?;
            out.message(STATUS, answer.get_ref());
        }
    }
    Ok(())
}
