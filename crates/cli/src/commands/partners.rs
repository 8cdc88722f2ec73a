//! `socsec partner …`: the partner registry (banks, outlets, hospitals,
//! pharmacies, HR agencies, employers, the hotline).

use clap::{Subcommand, ValueEnum};
use socsec_proto::{common::v1::PartnerKind, identity::v1 as identity};

use super::RequestIdArg;
use crate::{
    connection::{Connection, Outcome},
    output::Printer,
};

#[derive(Subcommand)]
pub enum PartnerCommand {
    /// Registers a partner of a kind, designated from the start.
    Register {
        #[command(flatten)]
        request_id: RequestIdArg,
        #[arg(long)]
        code: String,
        #[arg(long, value_enum)]
        kind: KindArg,
        #[arg(long)]
        name: String,
        #[arg(long)]
        region: String,
        #[arg(long, default_value = "")]
        parent: String,
        #[arg(long, default_value = "")]
        credit_code: String,
        /// Banks only: a collecting bank, which records contribution payments.
        #[arg(long)]
        collects_contributions: bool,
    },
    /// Puts a partner's designation in force, or suspends it, with a reason.
    Designate {
        #[command(flatten)]
        request_id: RequestIdArg,
        #[arg(long)]
        code: String,
        #[arg(long)]
        in_force: bool,
        #[arg(long)]
        reason: String,
        /// Banks only: designate (true) or withdraw (false) collecting
        /// contributions; absent: unchanged.
        #[arg(long)]
        collects_contributions: Option<bool>,
    },
    /// Lists the registered partners.
    List,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum KindArg {
    Bank,
    BankOutlet,
    Hospital,
    Pharmacy,
    HrAgency,
    Employer,
    HotlineCenter,
}

impl KindArg {
    fn proto(self) -> PartnerKind {
        match self {
            Self::Bank => PartnerKind::Bank,
            Self::BankOutlet => PartnerKind::BankOutlet,
            Self::Hospital => PartnerKind::Hospital,
            Self::Pharmacy => PartnerKind::Pharmacy,
            Self::HrAgency => PartnerKind::HrAgency,
            Self::Employer => PartnerKind::Employer,
            Self::HotlineCenter => PartnerKind::HotlineCenter,
        }
    }
}

pub(super) async fn partner(c: &Connection, command: PartnerCommand, out: Printer) -> Outcome {
    let mut identity = c.identity().await?;
    match command {
        PartnerCommand::Register {
            request_id,
            code,
            kind,
            name,
            region,
            parent,
            credit_code,
            collects_contributions,
        } => {
            let answer = identity
                .register_partner(c.request(identity::RegisterPartnerRequest {
                    request_id: request_id.get(),
                    code,
                    kind: kind.proto() as i32,
                    name,
                    region_code: region,
                    parent_code: parent,
                    credit_code,
                    designation_in_force: true,
                    collects_contributions,
                }))
                .await?;
            out.message("socsec.identity.v1.Partner", answer.get_ref());
        }
        PartnerCommand::Designate {
            request_id,
            code,
            in_force,
            reason,
            collects_contributions,
        } => {
            let answer = identity
                .set_partner_designation(c.request(identity::SetPartnerDesignationRequest {
                    request_id: request_id.get(),
                    code,
                    designation_in_force: in_force,
                    reason,
                    collects_contributions,
                }))
                .await?;
            out.message("socsec.identity.v1.Partner", answer.get_ref());
        }
        PartnerCommand::List => {
            let answer = identity
                .list_partners(c.request(identity::ListPartnersRequest::default()))
                .await?;
            out.message("socsec.identity.v1.ListPartnersResponse", answer.get_ref());
        }
    }
    Ok(())
}
