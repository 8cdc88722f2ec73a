//! `socsec contribution …`: rates, enrolment, wages, the monthly run,
//! bills and statements (payments: `payments.rs`).

use clap::{Subcommand, ValueEnum};
use futures::StreamExt;
use socsec_proto::{common::v1 as common, contribution::v1 as contribution};

use super::{RequestIdArg, date, fen, month, payments::PaymentCommand, progress_bar};
use crate::{
    connection::{Connection, Outcome},
    output::{Printer, print_statement},
};

#[derive(Subcommand)]
pub enum ContributionCommand {
    /// Enrols a person in insurance types under a scheme, from a month on.
    Enrol {
        #[command(flatten)]
        request_id: RequestIdArg,
        #[arg(long)]
        person_id: String,
        #[arg(long, default_value = "110100")]
        region: String,
        #[arg(long = "type", value_enum, required = true)]
        types: Vec<InsuranceArg>,
        #[arg(long, value_enum)]
        scheme: SchemeArg,
        #[arg(long, default_value = "")]
        employer: String,
        #[arg(long, default_value = "")]
        contract: String,
        /// First month, YYYY-MM.
        #[arg(long)]
        start: String,
    },
    /// Registers an HR agency contract for a person, with its monthly service
    /// fee. Registered by the agency it is PENDING until the person confirms
    /// it (`confirm-contract`); by an operator, CONFIRMED at once.
    Contract {
        #[command(flatten)]
        request_id: RequestIdArg,
        #[arg(long)]
        agency: String,
        #[arg(long)]
        person_id: String,
        /// Monthly service fee in yuan.
        #[arg(long)]
        fee: String,
        /// First month, YYYY-MM.
        #[arg(long)]
        start: String,
        /// Last month, YYYY-MM: at most 36 months in all.
        #[arg(long)]
        end: String,
    },
    /// The person's consent to an agency contract (as the person with
    /// `--token`, or an operator at the counter).
    ConfirmContract {
        #[command(flatten)]
        request_id: RequestIdArg,
        #[arg(long)]
        contract: String,
    },
    /// Ends an agency contract early (declines a pending one).
    EndContract {
        #[command(flatten)]
        request_id: RequestIdArg,
        #[arg(long)]
        contract: String,
        /// Last month covered, YYYY-MM; default: the last month already billed.
        #[arg(long)]
        end: Option<String>,
    },
    /// A person's agency contracts and their status.
    Contracts {
        #[arg(long)]
        person_id: String,
    },
    /// Declares a person's monthly wage for a month, or for every month of a year.
    Wage {
        #[command(flatten)]
        request_id: RequestIdArg,
        #[arg(long)]
        person_id: String,
        /// YYYY-MM, or a year for all its months.
        #[arg(long)]
        period: String,
        /// Monthly wage in yuan.
        #[arg(long)]
        wage: String,
    },
    /// Runs a month for a region, with a progress bar.
    Run {
        #[command(flatten)]
        request_id: RequestIdArg,
        #[arg(long)]
        period: String,
        #[arg(long, default_value = "110100")]
        region: String,
        #[arg(long, default_value = "")]
        payer: String,
    },
    /// Shows a payer's bill for a month, the late fee as of a date (default: today).
    Bill {
        #[arg(long, default_value = "")]
        payer: String,
        #[arg(long)]
        period: String,
        #[arg(long)]
        as_of: Option<String>,
    },
    #[command(flatten)]
    Payment(PaymentCommand),
    /// A person's contribution history as a table.
    Statement {
        #[arg(long)]
        person_id: String,
        #[arg(long)]
        from: String,
        #[arg(long)]
        to: String,
    },
}

#[derive(Clone, Copy, ValueEnum)]
pub enum InsuranceArg {
    OldAge,
    Medical,
    Unemployment,
    WorkInjury,
    Maternity,
}

impl InsuranceArg {
    fn proto(self) -> contribution::InsuranceType {
        match self {
            Self::OldAge => contribution::InsuranceType::OldAge,
            Self::Medical => contribution::InsuranceType::Medical,
            Self::Unemployment => contribution::InsuranceType::Unemployment,
            Self::WorkInjury => contribution::InsuranceType::WorkInjury,
            Self::Maternity => contribution::InsuranceType::Maternity,
        }
    }
}

#[derive(Clone, Copy, ValueEnum)]
pub enum SchemeArg {
    Employee,
    Flexible,
    Agency,
}

pub(super) async fn contributions(
    c: &Connection,
    command: ContributionCommand,
    out: Printer,
) -> Outcome {
    let mut client = c.contribution().await?;
    match command {
        ContributionCommand::Enrol {
            request_id,
            person_id,
            region,
            types,
            scheme,
            employer,
            contract,
            start,
        } => {
            let answer = client
                .enrol(c.request(contribution::EnrolRequest {
                    request_id: request_id.get(),
                    person_id,
                    region_code: region,
                    insurance_types: types.into_iter().map(|t| t.proto() as i32).collect(),
                    scheme: match scheme {
                        SchemeArg::Employee => contribution::Scheme::Employee,
                        SchemeArg::Flexible => contribution::Scheme::Flexible,
                        SchemeArg::Agency => contribution::Scheme::Agency,
                    } as i32,
                    employer_code: employer,
                    agency_contract_id: contract,
                    start: Some(month(&start)?),
                }))
                .await?;
            out.message("socsec.contribution.v1.EnrolResponse", answer.get_ref());
        }
        ContributionCommand::Contract {
            request_id,
            agency,
            person_id,
            fee,
            start,
            end,
        } => {
            let answer = client
                .register_agency_contract(c.request(contribution::RegisterAgencyContractRequest {
                    request_id: request_id.get(),
                    agency_code: agency,
                    person_id,
                    monthly_service_fee: Some(common::Money { fen: fen(&fee)? }),
                    start: Some(month(&start)?),
                    end: Some(month(&end)?),
                }))
                .await?;
            out.message("socsec.contribution.v1.AgencyContract", answer.get_ref());
        }
        ContributionCommand::ConfirmContract {
            request_id,
            contract,
        } => {
            let answer = client
                .confirm_agency_contract(c.request(contribution::ConfirmAgencyContractRequest {
                    request_id: request_id.get(),
                    contract_id: contract,
                }))
                .await?;
            out.message("socsec.contribution.v1.AgencyContract", answer.get_ref());
        }
        ContributionCommand::EndContract {
            request_id,
            contract,
            end,
        } => {
            let answer = client
                .end_agency_contract(c.request(contribution::EndAgencyContractRequest {
                    request_id: request_id.get(),
                    contract_id: contract,
                    end: end.as_deref().map(month).transpose()?,
                }))
                .await?;
            out.message("socsec.contribution.v1.AgencyContract", answer.get_ref());
        }
        ContributionCommand::Contracts { person_id } => {
            let answer = client
                .list_agency_contracts(c.request(contribution::ListAgencyContractsRequest {
                    person_id,
                    page: Some(common::PageRequest {
                        page_size: 500,
                        page_token: String::new(),
                    }),
                }))
                .await?;
            out.message(
                "socsec.contribution.v1.ListAgencyContractsResponse",
                answer.get_ref(),
            );
        }
        ContributionCommand::Wage {
            request_id,
            person_id,
            period,
            wage,
        } => {
            use contribution::declare_wage_request::Period;
            let period = match period.parse::<i32>() {
                Ok(year) => Period::Year(year),
                Err(_) => Period::Month(month(&period)?),
            };
            let answer = client
                .declare_wage(c.request(contribution::DeclareWageRequest {
                    request_id: request_id.get(),
                    person_id,
                    period: Some(period),
                    monthly_wage: Some(common::Money { fen: fen(&wage)? }),
                }))
                .await?;
            out.message(
                "socsec.contribution.v1.DeclareWageResponse",
                answer.get_ref(),
            );
        }
        ContributionCommand::Run {
            request_id,
            period,
            region,
            payer,
        } => {
            let mut stream = client
                .run_month(c.request(contribution::RunMonthRequest {
                    request_id: request_id.get(),
                    period: Some(month(&period)?),
                    region_code: region,
                    payer_code: payer,
                }))
                .await?
                .into_inner();
            let bar = progress_bar(out, "enrolments");
            while let Some(progress) = stream.next().await {
                let progress = progress?;
                bar.set_length(progress.enrolments_total.max(0) as u64);
                bar.set_position(progress.enrolments_done.max(0) as u64);
                if progress.done {
                    bar.finish();
                    out.message("socsec.contribution.v1.RunMonthProgress", &progress);
                }
            }
        }
        ContributionCommand::Bill {
            payer,
            period,
            as_of,
        } => {
            let as_of = as_of.as_deref().map(date).transpose()?;
            let answer = client
                .get_bill(c.request(contribution::GetBillRequest {
                    payer,
                    period: Some(month(&period)?),
                    as_of,
                }))
                .await?;
            out.message("socsec.contribution.v1.Bill", answer.get_ref());
        }
        ContributionCommand::Payment(command) => {
            super::payments::payments(c, &mut client, command, out).await?
        }
        ContributionCommand::Statement {
            person_id,
            from,
            to,
        } => {
            let answer = client
                .get_statement(c.request(contribution::GetStatementRequest {
                    person_id,
                    from: Some(month(&from)?),
                    to: Some(month(&to)?),
                    page: Some(common::PageRequest {
                        page_size: 500,
                        page_token: String::new(),
                    }),
                }))
                .await?;
            if out.json {
                out.message("socsec.contribution.v1.Statement", answer.get_ref());
            } else {
                print_statement(answer.get_ref());
            }
        }
    }
    Ok(())
}
