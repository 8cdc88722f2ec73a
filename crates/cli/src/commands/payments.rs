//! `socsec contribution order|record-payment|reverse-payment`: a payer asks
//! for a payment order, the collecting bank records (or reverses) it.

use clap::Subcommand;
use devpki::channel::CallerChannel;
use socsec_proto::{
    common::v1 as common,
    contribution::v1::{
        self as contribution, contribution_service_client::ContributionServiceClient,
    },
};

use super::{RequestIdArg, fen, month};
use crate::{
    connection::{Connection, Failure, Outcome},
    output::Printer,
};

#[derive(Subcommand)]
pub enum PaymentCommand {
    /// As a payer: asks for a payment order for a bill (the amount frozen
    /// for today); pay it at a collecting bank.
    Order {
        #[command(flatten)]
        request_id: RequestIdArg,
        /// `employer:CODE`, `hr_agency:CODE`, `person:<id>`; empty: your own.
        #[arg(long, default_value = "")]
        payer: String,
        #[arg(long)]
        period: String,
        /// Amount in yuan; default: everything outstanding today.
        #[arg(long)]
        amount: Option<String>,
    },
    /// As a collecting bank (or an operator naming it with `--bank`):
    /// records the payment of an order.
    RecordPayment {
        #[command(flatten)]
        request_id: RequestIdArg,
        #[arg(long)]
        order: String,
        /// The bank's transaction reference.
        #[arg(long)]
        reference: String,
        /// Amount in yuan: exactly the order's.
        #[arg(long)]
        amount: String,
        /// When the money arrived, RFC 3339 (2026-11-25T10:00:00+08:00); default: now.
        #[arg(long)]
        paid_at: Option<String>,
        #[arg(long, default_value = "")]
        bank: String,
    },
    /// As the bank that recorded a payment (or an operator): reverses it.
    ReversePayment {
        #[command(flatten)]
        request_id: RequestIdArg,
        #[arg(long, default_value = "")]
        bank: String,
        #[arg(long)]
        reference: String,
        #[arg(long)]
        reason: String,
    },
}

pub(super) async fn payments(
    c: &Connection,
    client: &mut ContributionServiceClient<CallerChannel>,
    command: PaymentCommand,
    out: Printer,
) -> Outcome {
    match command {
        PaymentCommand::Order {
            request_id,
            payer,
            period,
            amount,
        } => {
            let amount = amount.as_deref().map(fen).transpose()?;
            let answer = client
                .create_payment_order(c.request(contribution::CreatePaymentOrderRequest {
                    request_id: request_id.get(),
                    payer,
                    period: Some(month(&period)?),
                    amount: amount.map(|fen| common::Money { fen }),
                }))
                .await?;
            out.message("socsec.contribution.v1.PaymentOrder", answer.get_ref());
        }
        PaymentCommand::RecordPayment {
            request_id,
            order,
            reference,
            amount,
            paid_at,
            bank,
        } => {
            let paid_at = match paid_at {
                Some(at) => chrono::DateTime::parse_from_rfc3339(&at)
                    .map_err(|_| Failure::Usage(format!("`{at}` is not an instant (RFC 3339)")))?
                    .to_utc(),
                None => chrono::Utc::now(),
            };
            let answer = client
                .record_payment(c.request(contribution::RecordPaymentRequest {
                    request_id: request_id.get(),
                    amount: Some(common::Money { fen: fen(&amount)? }),
                    order_id: order,
                    bank_reference: reference,
                    paid_at: Some(prost_types::Timestamp {
                        seconds: paid_at.timestamp(),
                        nanos: paid_at.timestamp_subsec_nanos() as i32,
                    }),
                    bank_code: bank,
                }))
                .await?;
            out.message("socsec.contribution.v1.Payment", answer.get_ref());
        }
        PaymentCommand::ReversePayment {
            request_id,
            bank,
            reference,
            reason,
        } => {
            let answer = client
                .reverse_payment(c.request(contribution::ReversePaymentRequest {
                    request_id: request_id.get(),
                    bank_code: bank,
                    bank_reference: reference,
                    reason,
                }))
                .await?;
            out.message("socsec.contribution.v1.Payment", answer.get_ref());
        }
    }
    Ok(())
}
