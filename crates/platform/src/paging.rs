//! Page tokens for list RPCs: an opaque encoding of the last key returned.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};

use std::{fmt::Display, str::FromStr};

use crate::error::FieldViolations;

pub const DEFAULT_PAGE_SIZE: i64 = 50;
pub const MAX_PAGE_SIZE: i64 = 500;

/// A validated page request: how many items, after which key. The token
/// is one format for every list RPC: the last key returned, written with
/// its `Display` and read back with its `FromStr`, base64url-encoded; a token
/// whose key does not parse is `PAGE_TOKEN_INVALID` like one that does not
/// decode.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Page<K = String> {
    pub size: i64,
    pub after: Option<K>,
}

impl<K: FromStr + Display> Page<K> {
    /// Reads `page_size` and `page_token`; bad values are recorded under `field`.
    pub fn parse(
        violations: &mut FieldViolations,
        field: &str,
        page_size: i32,
        page_token: &str,
    ) -> Option<Self> {
        let size = match page_size {
            0 => DEFAULT_PAGE_SIZE,
            n if n < 0 => {
                violations.add(
                    &format!("{field}.page_size"),
                    "PAGE_SIZE_NEGATIVE",
                    "must not be negative",
                );
                return None;
            }
            n => i64::from(n).min(MAX_PAGE_SIZE),
        };
        if page_token.is_empty() {
            return Some(Self { size, after: None });
        }
        match URL_SAFE_NO_PAD
            .decode(page_token)
            .ok()
            .and_then(|b| String::from_utf8(b).ok())
            .and_then(|key| key.parse::<K>().ok())
        {
            Some(after) => Some(Self {
                size,
                after: Some(after),
            }),
            None => {
                violations.add(
                    &format!("{field}.page_token"),
                    "PAGE_TOKEN_INVALID",
                    "is not a token this service issued",
                );
                None
            }
        }
    }

    /// The token for the page after one ending at `last_key`, if the page was full.
    pub fn next_token(&self, returned: usize, last_key: Option<&K>) -> String {
        match last_key {
            Some(key) if returned as i64 == self.size => URL_SAFE_NO_PAD.encode(key.to_string()),
            _ => String::new(),
        }
    }
}
