//! `socsec person …`: persons' basic information, and the online password.

use clap::{Subcommand, ValueEnum};
use socsec_proto::{common::v1::Gender, identity::v1 as identity};

use super::{PasswordArg, RequestIdArg};
use crate::{
    connection::{Connection, Outcome},
    output::Printer,
};

#[derive(Subcommand)]
pub enum PersonCommand {
    /// Registers a person's basic information (unconfirmed until confirmed).
    Register {
        #[command(flatten)]
        request_id: RequestIdArg,
        #[arg(long)]
        id_number: String,
        #[arg(long)]
        name: String,
        #[arg(long, value_enum)]
        gender: GenderArg,
        #[arg(long, default_value = "汉")]
        ethnicity: String,
        #[arg(long)]
        phone: String,
        #[arg(long)]
        address: String,
    },
    /// Shows a person by person id.
    Get {
        #[arg(long)]
        person_id: String,
    },
    /// Finds a person by ID number.
    Lookup {
        #[arg(long)]
        id_number: String,
    },
    /// Confirms a person's basic information as it stands at a version.
    Confirm {
        #[command(flatten)]
        request_id: RequestIdArg,
        #[arg(long)]
        person_id: String,
        #[arg(long)]
        version: i32,
    },
    /// Corrects a person's basic information, with the reason and the evidence.
    Correct {
        #[command(flatten)]
        request_id: RequestIdArg,
        #[arg(long)]
        person_id: String,
        #[arg(long)]
        version: i32,
        #[arg(long)]
        name: String,
        #[arg(long, value_enum)]
        gender: GenderArg,
        #[arg(long, default_value = "汉")]
        ethnicity: String,
        #[arg(long)]
        phone: String,
        #[arg(long)]
        address: String,
        #[arg(long)]
        reason: String,
        #[arg(long)]
        evidence: String,
    },
    /// Lists every version of a person's basic information, with who changed it and why.
    Versions {
        #[arg(long)]
        person_id: String,
    },
    /// Sets a person's online password (at the counter, against the ID card).
    SetPassword {
        #[command(flatten)]
        request_id: RequestIdArg,
        #[arg(long)]
        id_number: String,
        #[command(flatten)]
        password: PasswordArg,
    },
    /// Signs in online with ID number and password; prints a session token for `--token`.
    SignIn {
        #[arg(long)]
        id_number: String,
        #[command(flatten)]
        password: PasswordArg,
    },
    /// Ends the session of `--token` (the person signs out).
    SignOut {
        #[command(flatten)]
        request_id: RequestIdArg,
    },
    /// Ends every session of a person (operators: a stolen token, a lost phone).
    RevokeSessions {
        #[command(flatten)]
        request_id: RequestIdArg,
        #[arg(long)]
        person_id: String,
        #[arg(long)]
        reason: String,
    },
}

#[derive(Clone, Copy, ValueEnum)]
pub enum GenderArg {
    Male,
    Female,
}

fn gender(g: GenderArg) -> i32 {
    match g {
        GenderArg::Male => Gender::Male as i32,
        GenderArg::Female => Gender::Female as i32,
    }
}

pub(super) async fn person(c: &Connection, command: PersonCommand, out: Printer) -> Outcome {
    let mut identity = c.identity().await?;
    const PERSON: &str = "socsec.identity.v1.Person";
    match command {
        PersonCommand::Register {
            request_id,
            id_number,
            name,
            gender: g,
            ethnicity,
            phone,
            address,
        } => {
            let answer = identity
                .register_person(c.request(identity::RegisterPersonRequest {
                    request_id: request_id.get(),
                    id_number,
                    basic_info: Some(identity::BasicInfo {
                        name,
                        gender: gender(g),
                        ethnicity,
                        phone,
                        address,
                    }),
                }))
                .await?;
            out.message(PERSON, answer.get_ref());
        }
        PersonCommand::Get { person_id } => {
            let answer = identity
                .get_person(c.request(identity::GetPersonRequest { person_id }))
                .await?;
            out.message(PERSON, answer.get_ref());
        }
        PersonCommand::Lookup { id_number } => {
            let answer = identity
                .lookup_person(c.request(identity::LookupPersonRequest { id_number }))
                .await?;
            out.message(PERSON, answer.get_ref());
        }
        PersonCommand::Confirm {
            request_id,
            person_id,
            version,
        } => {
            let answer = identity
                .confirm_basic_info(c.request(identity::ConfirmBasicInfoRequest {
                    request_id: request_id.get(),
                    person_id,
                    version,
                }))
                .await?;
            out.message(PERSON, answer.get_ref());
        }
        PersonCommand::Correct {
            request_id,
            person_id,
            version,
            name,
            gender: g,
            ethnicity,
            phone,
            address,
            reason,
            evidence,
        } => {
            let answer = identity
                .correct_basic_info(c.request(identity::CorrectBasicInfoRequest {
                    request_id: request_id.get(),
                    person_id,
                    basic_info: Some(identity::BasicInfo {
                        name,
                        gender: gender(g),
                        ethnicity,
                        phone,
                        address,
                    }),
                    reason,
                    evidence_ref: evidence,
                    version,
                }))
                .await?;
            out.message(PERSON, answer.get_ref());
        }
        PersonCommand::Versions { person_id } => {
            let answer = identity
                .list_basic_info_versions(
                    c.request(identity::ListBasicInfoVersionsRequest { person_id }),
                )
                .await?;
            out.message(
                "socsec.identity.v1.ListBasicInfoVersionsResponse",
                answer.get_ref(),
            );
        }
        PersonCommand::SetPassword {
            request_id,
            id_number,
            password,
        } => {
            let answer = identity
                .set_online_password(c.request(identity::SetOnlinePasswordRequest {
                    request_id: request_id.get(),
                    id_number,
                    password: password.read()?,
                }))
                .await?;
            out.message(
                "socsec.identity.v1.SetOnlinePasswordResponse",
                answer.get_ref(),
            );
        }
        PersonCommand::SignIn {
            id_number,
            password,
        } => {
            let answer = identity
                .sign_in(identity::SignInRequest {
                    id_number,
                    password: password.read()?,
                })
                .await?;
            out.message("socsec.identity.v1.SignInResponse", answer.get_ref());
        }
        PersonCommand::SignOut { request_id } => {
            let answer = identity
                .sign_out(c.request(identity::SignOutRequest {
                    request_id: request_id.get(),
                }))
                .await?;
            out.message("socsec.identity.v1.SignOutResponse", answer.get_ref());
        }
        PersonCommand::RevokeSessions {
            request_id,
            person_id,
            reason,
        } => {
            let answer = identity
                .revoke_sessions(c.request(identity::RevokeSessionsRequest {
                    request_id: request_id.get(),
                    person_id,
                    reason,
                }))
                .await?;
            out.message(
                "socsec.identity.v1.RevokeSessionsResponse",
                answer.get_ref(),
            );
        }
    }
    Ok(())
}
