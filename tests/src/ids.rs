//! Valid resident ID numbers for tests, unique per call.

use std::sync::atomic::{AtomicU32, Ordering};

const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const CHECK: &[u8; 11] = b"10X98765432";

static NEXT: AtomicU32 = AtomicU32::new(0);

/// Appends the ISO 7064 MOD 11-2 check character to 17 digits.
pub fn with_check_character(body: &str) -> String {
    let sum: u32 = body
        .bytes()
        .zip(WEIGHTS)
        .map(|(d, w)| u32::from(d - b'0') * w)
        .sum();
    format!("{body}{}", CHECK[(sum % 11) as usize] as char)
}

/// A fresh valid ID number of a person born on 1990-01-01 in Beijing
/// (Xicheng) whose sequence digit gives `male`. Unique within the test run
/// (and across runs, since each test has its own database).
pub fn id_number(male: bool) -> String {
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let region = 110102 + (n / 500) % 8;
    let sequence = (n % 500) * 2 + u32::from(male);
    with_check_character(&format!(
        "{region}{}{sequence:03}",
        19900101 + (n / 4000) % 28
    ))
}

/// The check character that is *not* right for `body`.
pub fn with_wrong_check_character(body: &str) -> String {
    let right = with_check_character(body);
    let wrong = if right.ends_with('0') { '1' } else { '0' };
    format!("{body}{wrong}")
}
