//! Every log line the in-process services write during a test run, at debug
//! level, kept in memory so tests can check that no personal data leaks.

use std::{
    io::Write,
    sync::{Mutex, OnceLock},
};

use tracing_subscriber::{EnvFilter, fmt::MakeWriter};

static LOGS: Mutex<Vec<u8>> = Mutex::new(Vec::new());
static INSTALLED: OnceLock<()> = OnceLock::new();

struct Capture;

impl Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        LOGS.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Capture {
    type Writer = Capture;

    fn make_writer(&'a self) -> Self::Writer {
        Capture
    }
}

/// Installs the capturing subscriber (once per test binary).
pub fn capture() {
    INSTALLED.get_or_init(|| {
        let filter = EnvFilter::new("debug,h2=info,hyper=info,hyper_util=info,tower=info");
        let _ = tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_writer(Capture)
            .with_ansi(false)
            .try_init();
    });
}

/// Everything logged so far.
pub fn captured() -> String {
    String::from_utf8_lossy(&LOGS.lock().unwrap()).into_owned()
}

/// Every full ID number (18 characters with a valid check character and
/// birth date) and every full bank card number (16 to 19 digits, Luhn-valid,
/// a UnionPay `62` BIN) in the captured logs: there should be none.
pub fn personal_data_in_logs() -> Vec<String> {
    personal_data_in(&captured())
}

/// The full ID numbers and bank card numbers in `text`.
pub fn personal_data_in(text: &str) -> Vec<String> {
    let today = chrono::NaiveDate::from_ymd_opt(2100, 1, 1).expect("a date");
    let mut found = Vec::new();
    let mut run = String::new();
    let mut check = |run: &str| {
        let id_number = run.len() == 18 && pii::IdNumber::parse(run, today).is_ok();
        let bank_card = run.starts_with("62")
            && run.bytes().all(|b| b.is_ascii_digit())
            && pii::BankCardNumber::parse(run).is_ok();
        if id_number || bank_card {
            found.push(run.to_owned());
        }
    };
    for c in text.chars() {
        if c.is_ascii_digit() || c == 'X' || c == 'x' {
            run.push(c);
        } else {
            check(&run);
            run.clear();
        }
    }
    check(&run);
    found
}

#[cfg(test)]
mod tests {
    use super::personal_data_in;

    #[test]
    fn finds_full_numbers_and_passes_masked_ones() {
        let text = "id=11010519491231002X card=6222020000000000000 \
                    masked=110105********002X 622202*********0000 at=2026-11-25T02:00:00Z \
                    cursor=123456789:12 serial=110102D15600000500";
        assert_eq!(
            personal_data_in(text),
            ["11010519491231002X", "6222020000000000000"]
        );
    }
}
