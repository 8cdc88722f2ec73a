//! Every log line the in-process services write during a test run, at debug
//! level, kept in memory so tests can check that no personal data leaks;
//! and the database server's log, which must hold none either.

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

/// Where `deploy/test.sh` says the database server's log is.
pub const DATABASE_LOG_VAR: &str = "SOCSEC_TEST_PG_LOG";

/// The database server's log so far; `None` when the tests were not told
/// where it is (a server of your own, `DATABASE_URL` without
/// `SOCSEC_TEST_PG_LOG`).
pub fn database_log() -> Option<String> {
    let path = std::env::var_os(DATABASE_LOG_VAR)?;
    let bytes = std::fs::read(&path)
        .unwrap_or_else(|e| panic!("{DATABASE_LOG_VAR}={}: {e}", path.display()));
    Some(String::from_utf8_lossy(&bytes).into_owned())
}

/// Personal data in the database server's log: full ID numbers and bank
/// card numbers (as in [`personal_data_in`]), any run of Chinese characters
/// (every name and address the tests use is Chinese, and the server writes
/// none of its own), and any of `also` (names, numbers a test used). Empty,
/// with a note on stderr, when the log's whereabouts are unknown.
pub fn personal_data_in_database_log(also: &[&str]) -> Vec<String> {
    let Some(log) = database_log() else {
        eprintln!("{DATABASE_LOG_VAR} is not set: the database server's log is not checked");
        return Vec::new();
    };
    let mut found = personal_data_in(&log);
    found.extend(han_runs(&log));
    found.extend(
        also.iter()
            .filter(|value| !value.is_empty() && log.contains(**value))
            .map(|value| (*value).to_owned()),
    );
    found
}

/// The runs of Han (Chinese) characters in `text`.
fn han_runs(text: &str) -> Vec<String> {
    let han = |c: char| matches!(c, '\u{3400}'..='\u{4DBF}' | '\u{4E00}'..='\u{9FFF}' | '\u{F900}'..='\u{FAFF}');
    text.split(|c: char| !han(c))
        .filter(|run| !run.is_empty())
        .map(str::to_owned)
        .collect()
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
    use super::{han_runs, personal_data_in};

    #[test]
    fn finds_chinese_names_and_addresses() {
        let text = "ERROR:  duplicate key value violates unique constraint \"persons_id_number_key\"\n\
                    DETAIL:  Failing row contains (王芳, 北京市西城区).";
        assert_eq!(han_runs(text), ["王芳", "北京市西城区"]);
        assert!(han_runs("LOG:  database system is ready to accept connections").is_empty());
    }

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
