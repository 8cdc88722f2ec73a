//! A small W3C WebDriver client for the browser tests: Debian's chromedriver
//! driving Debian's Chromium headless, spoken to over its JSON protocol with
//! reqwest (no WebDriver crate needed for navigate, type, click, read and
//! screenshot). The machine's network is closed: Chromium runs with every
//! background connection off and a fresh profile. `deploy/test.sh` installs
//! `chromium` and `chromium-driver` when they are missing.

use std::{
    net::TcpListener,
    path::Path,
    process::{Child, Command, Stdio},
    time::Duration,
};

use base64::Engine;
use serde_json::{Value, json};

pub struct Browser {
    driver: Child,
    base: String,
    http: reqwest::Client,
    _profile: tempdir::Dir,
}

mod tempdir {
    /// A directory removed when dropped.
    pub struct Dir(pub std::path::PathBuf);
    impl Drop for Dir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

impl Browser {
    /// chromedriver on a free port and a headless Chromium session that
    /// accepts the portal's development certificate.
    pub async fn start() -> Self {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let driver = Command::new("chromedriver")
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver (deploy/test.sh installs chromium-driver)");
        let base = format!("http://127.0.0.1:{port}");
        let http = reqwest::Client::new();
        let status = format!("{base}/status");
        crate::eventually("chromedriver ready", Duration::from_secs(30), async || {
            let answer = http.get(&status).send().await.ok()?;
            let body: Value = answer.json().await.ok()?;
            body["value"]["ready"].as_bool().filter(|ready| *ready)
        })
        .await;
        let profile =
            std::env::temp_dir().join(format!("socsec-chromium-{}", uuid::Uuid::new_v4()));
        let mut browser = Self {
            driver,
            base,
            http,
            _profile: tempdir::Dir(profile.clone()),
        };
        let args = [
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-dev-shm-usage",
            "--window-size=390,1400",
        ]
        .iter()
        .map(|a| a.to_string())
        .chain([format!("--user-data-dir={}", profile.display())])
        .collect::<Vec<_>>();
        let session = browser
            .call(
                reqwest::Method::POST,
                "/session",
                json!({ "capabilities": { "alwaysMatch": {
                    "browserName": "chrome",
                    "acceptInsecureCerts": true,
                    "goog:chromeOptions": { "binary": "/usr/bin/chromium", "args": args }
                }}}),
            )
            .await;
        let id = session["sessionId"].as_str().expect("a session").to_owned();
        browser.base = format!("{}/session/{id}", browser.base);
        browser
    }

    async fn call(&mut self, method: reqwest::Method, path: &str, body: Value) -> Value {
        let mut request = self.http.request(method, format!("{}{path}", self.base));
        if !body.is_null() {
            request = request.json(&body);
        }
        let answer = request.send().await.expect("chromedriver answers");
        let value: Value = answer.json().await.expect("a JSON answer");
        assert!(
            value["value"]["error"].is_null(),
            "webdriver {path}: {}",
            value["value"]
        );
        value["value"].clone()
    }

    pub async fn goto(&mut self, url: &str) {
        self.call(reqwest::Method::POST, "/url", json!({ "url": url }))
            .await;
    }

    async fn find(&mut self, css: &str) -> String {
        let found = self
            .call(
                reqwest::Method::POST,
                "/element",
                json!({ "using": "css selector", "value": css }),
            )
            .await;
        found[ELEMENT]
            .as_str()
            .or_else(|| found["ELEMENT"].as_str())
            .unwrap_or_else(|| panic!("no element {css}: {found}"))
            .to_owned()
    }

    pub async fn type_into(&mut self, css: &str, text: &str) {
        let id = self.find(css).await;
        self.call(
            reqwest::Method::POST,
            &format!("/element/{id}/value"),
            json!({ "text": text }),
        )
        .await;
    }

    /// Clicks the button `css` that submits a form and returns the page it
    /// leads to once that page has loaded and contains `expected`. The click
    /// returns before the next page has loaded, so the old page is marked
    /// first and the new one is read until it is a different document, fully
    /// loaded, with `expected` in it: never the old page, never half of the
    /// new one.
    pub async fn submit(&mut self, css: &str, expected: &str) -> String {
        self.execute("window.__socsecLeft = true; return null;")
            .await;
        let id = self.find(css).await;
        self.call(
            reqwest::Method::POST,
            &format!("/element/{id}/click"),
            json!({}),
        )
        .await;
        let what = format!("the page after {css} (with {expected:?})");
        crate::eventually(&what, Duration::from_secs(15), async || {
            let loaded = self
                .execute(
                    "return window.__socsecLeft === undefined && document.readyState === 'complete';",
                )
                .await;
            if loaded.as_bool() != Some(true) {
                return None;
            }
            let page = self.source().await;
            page.contains(expected).then_some(page)
        })
        .await
    }

    /// Runs `script` in the page and returns its value; a script run while
    /// the page is being replaced answers `null`.
    async fn execute(&mut self, script: &str) -> Value {
        let answer = self
            .http
            .post(format!("{}/execute/sync", self.base))
            .json(&json!({ "script": script, "args": [] }))
            .send()
            .await
            .expect("chromedriver answers");
        let value: Value = answer.json().await.expect("a JSON answer");
        value["value"].clone()
    }

    pub async fn source(&mut self) -> String {
        let value = self
            .call(reqwest::Method::GET, "/source", Value::Null)
            .await;
        value.as_str().unwrap_or_default().to_owned()
    }

    /// Saves a PNG screenshot of the page to `path`.
    pub async fn screenshot(&mut self, path: &Path) {
        let value = self
            .call(reqwest::Method::GET, "/screenshot", Value::Null)
            .await;
        let png = base64::engine::general_purpose::STANDARD
            .decode(value.as_str().expect("base64 PNG"))
            .unwrap();
        std::fs::write(path, png).unwrap();
    }
}

impl Browser {
    /// Ends the session (Chromium exits) and chromedriver.
    pub async fn quit(mut self) {
        let _ = self.http.delete(self.base.clone()).send().await;
        let _ = &mut self;
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}
