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
