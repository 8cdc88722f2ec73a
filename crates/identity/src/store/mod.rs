//! All of identity's SQL. Rows hold `pii` types where a column holds
//! personal data or an identifier, and domain states where a column holds a
//! state; both are re-validated when read.

mod columns;
mod credential;
mod import;
mod partner;
mod person;
mod session;
mod unknown;

pub use columns::GenderColumn;
pub use credential::{
    CredentialRow, credential, record_sign_in_failure, record_sign_in_success, set_password,
};
pub use import::{ImportRow, import_persons, lookup_persons};
pub use partner::{PartnerRow, insert_partner, list_partners, partner_by_code, set_designation};
pub use person::{
    Change, NewPerson, PersonKey, PersonRow, VersionRow, confirm, correct, insert_person,
    lock_person, person_by_id_number, read_person, read_versions, verify_person,
};
pub use session::{Ending, NewSession, end_session, end_sessions_of, insert_session, session_live};
pub use unknown::{prune_unknown, record_unknown_failure, unknown_state};
