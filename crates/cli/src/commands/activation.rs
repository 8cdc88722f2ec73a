//! `socsec activate …`, `socsec eligibility`, `socsec deadlines`: the
//! activation service, as the partner of each channel calls it.

use clap::Subcommand;
use socsec_proto::activation::v1 as activation;

use super::RequestIdArg;
use crate::{
    connection::{Connection, Failure, Outcome},
    output::Printer,
};

#[derive(Subcommand)]
pub enum ActivateCommand {
    /// Activates at a bank outlet, with the card (number and identification code) and the holder's ID number.
    Outlet {
        #[command(flatten)]
        request_id: RequestIdArg,
        #[arg(long)]
        card: String,
        /// The card's 32-character identification code (from its chip).
        #[arg(long)]
        code: String,
        #[arg(long)]
        id_number: String,
        #[arg(long, default_value = "TELLER")]
        operator_id: String,
    },
    /// Activates on first use at a designated hospital (outpatient or inpatient).
    Hospital {
        #[command(flatten)]
        request_id: RequestIdArg,
        #[arg(long, required_unless_present = "ecard_token")]
        card: Option<String>,
        #[arg(long, required_unless_present = "ecard_token")]
        code: Option<String>,
        /// An e-card QR token (from `ecard token`), in place of card and code.
        #[arg(long, conflicts_with_all = ["card", "code"])]
        ecard_token: Option<String>,
        #[arg(long)]
        inpatient: bool,
    },
    /// Activates on first use at a designated pharmacy: the old medical insurance card, then the new card.
    Pharmacy {
        #[command(flatten)]
        request_id: RequestIdArg,
        #[arg(long)]
        legacy: String,
        #[arg(long, required_unless_present = "ecard_token")]
        card: Option<String>,
        /// The new card's 32-character identification code (from its chip).
        #[arg(long, required_unless_present = "ecard_token")]
        code: Option<String>,
        /// An e-card QR token (from `ecard token`), in place of card and code.
        #[arg(long, conflicts_with_all = ["card", "code"])]
        ecard_token: Option<String>,
    },
    /// Activates as the bank enables the financial function: serial number, ID number and bank card number.
    Financial {
        #[command(flatten)]
        request_id: RequestIdArg,
        #[arg(long)]
        serial: String,
        #[arg(long)]
        id_number: String,
        #[arg(long)]
        bank_card: String,
    },
    /// Activates through the 12333 hotline, once the caller is verified.
    Hotline {
        #[command(flatten)]
        request_id: RequestIdArg,
        #[arg(long)]
        card: String,
        #[arg(long)]
        id_number: String,
        #[arg(long)]
        name: String,
    },
}

pub(super) async fn activate(c: &Connection, command: ActivateCommand, out: Printer) -> Outcome {
    let mut client = c.activation().await?;
    let answer = match command {
        ActivateCommand::Outlet {
            request_id,
            card,
            code,
            id_number,
            operator_id,
        } => {
            client
                .activate_at_bank_outlet(c.request(activation::ActivateAtBankOutletRequest {
                    request_id: request_id.get(),
                    operator_id,
                    card_number: card,
                    id_number,
                    card_identification_code: code,
                }))
                .await?
        }
        ActivateCommand::Hospital {
            request_id,
            card,
            code,
            ecard_token,
            inpatient,
        } => {
            client
                .activate_at_hospital(c.request(activation::ActivateAtHospitalRequest {
                    request_id: request_id.get(),
                    operator_id: "DESK".into(),
                    card_number: card.unwrap_or_default(),
                    card_identification_code: code.unwrap_or_default(),
                    ecard_token: ecard_token.unwrap_or_default(),
                    visit_type: if inpatient {
                        activation::VisitType::Inpatient
                    } else {
                        activation::VisitType::Outpatient
                    } as i32,
                }))
                .await?
        }
        ActivateCommand::Pharmacy {
            request_id,
            legacy,
            card,
            code,
            ecard_token,
        } => {
            client
                .activate_at_pharmacy(c.request(activation::ActivateAtPharmacyRequest {
                    request_id: request_id.get(),
                    operator_id: "POS".into(),
                    legacy_card_number: legacy,
                    card_number: card.unwrap_or_default(),
                    card_identification_code: code.unwrap_or_default(),
                    ecard_token: ecard_token.unwrap_or_default(),
                }))
                .await?
        }
        ActivateCommand::Financial {
            request_id,
            serial,
            id_number,
            bank_card,
        } => {
            client
                .activate_with_financial_function(c.request(
                    activation::ActivateWithFinancialFunctionRequest {
                        request_id: request_id.get(),
                        serial_number: serial,
                        id_number,
                        bank_card_number: bank_card,
                    },
                ))
                .await?
        }
        ActivateCommand::Hotline {
            request_id,
            card,
            id_number,
            name,
        } => {
            client
                .activate_by_hotline(c.request(activation::ActivateByHotlineRequest {
                    request_id: request_id.get(),
                    agent_id: "AGENT".into(),
                    id_number,
                    name,
                    card_number: card,
                }))
                .await?
        }
    };
    out.message("socsec.activation.v1.Activation", answer.get_ref());
    Ok(())
}

/// What `socsec eligibility` was given to show.
pub(super) struct Shown {
    pub card: Option<String>,
    pub code: Option<String>,
    pub legacy: Option<String>,
    pub ecard_token: Option<String>,
}

/// Whether the card (`card`, with its identification `code`), the old
/// medical insurance card (`legacy`) or the e-card of a token is usable now.
pub(super) async fn eligibility(c: &Connection, shown: Shown, out: Printer) -> Outcome {
    use activation::check_eligibility_request::Card;
    let card = match shown {
        Shown {
            card: Some(number),
            legacy: None,
            ecard_token: None,
            code,
        } => Card::SocialSecurityCard(activation::CardPresented {
            card_number: number,
            card_identification_code: code.unwrap_or_default(),
        }),
        Shown {
            card: None,
            legacy: Some(legacy),
            ecard_token: None,
            ..
        } => Card::LegacyCardNumber(legacy),
        Shown {
            card: None,
            legacy: None,
            ecard_token: Some(token),
            ..
        } => Card::EcardToken(token),
        _ => {
            return Err(Failure::Usage(
                "give --card (and --code), --legacy or --ecard-token".into(),
            ));
        }
    };
    let answer = c
        .activation()
        .await?
        .check_eligibility(c.request(activation::CheckEligibilityRequest { card: Some(card) }))
        .await?;
    out.message("socsec.activation.v1.Eligibility", answer.get_ref());
    Ok(())
}

/// Received cards whose activation deadline is within `within_days`.
pub(super) async fn deadlines(c: &Connection, within_days: i32, out: Printer) -> Outcome {
    let answer = c
        .activation()
        .await?
        .list_approaching_deadlines(c.request(activation::ListApproachingDeadlinesRequest {
            within_days,
            region_code: String::new(),
            page: None,
        }))
        .await?;
    out.message(
        "socsec.activation.v1.ListApproachingDeadlinesResponse",
        answer.get_ref(),
    );
    Ok(())
}
