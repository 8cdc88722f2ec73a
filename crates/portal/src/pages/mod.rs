//! The pages, as maud templates: one module per page, the shell in `layout`.

pub mod contributions;
pub mod ecard;
pub mod home;
pub mod layout;
pub mod pin;
pub mod signin;
