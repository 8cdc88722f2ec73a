//! The vocabulary shared by every socsec program — services, the CLI, the
//! development CA, the tests — without the server stack: who is calling,
//! whether a partner is admitted, China's calendar, and spreading calls
//! over a service's instances.

pub mod admission;
pub mod balance;
pub mod caller;
pub mod time;

pub use admission::{Refusal, Registration, admit};
pub use caller::{Caller, CallerKind};
