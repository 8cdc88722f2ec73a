//! Simplified Chinese first, English on request: `?lang=en` / `?lang=zh`
//! on any page sets a cookie holding only the language; each label is
//! written as a pair at its place (`lang.t("登录", "Sign in")`).

use axum::http::HeaderMap;

use crate::session;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Lang {
    Zh,
    En,
}

impl Lang {
    pub fn from_code(code: &str) -> Option<Self> {
        match code {
            "zh" => Some(Self::Zh),
            "en" => Some(Self::En),
            _ => None,
        }
    }

    /// The language of a request: its `lang` cookie, else Chinese.
    pub fn of(headers: &HeaderMap) -> Self {
        session::cookie(headers, session::LANG)
            .and_then(|code| Self::from_code(&code))
            .unwrap_or(Self::Zh)
    }

    pub fn code(self) -> &'static str {
        match self {
            Self::Zh => "zh-CN",
            Self::En => "en",
        }
    }

    pub fn t(self, zh: &'static str, en: &'static str) -> &'static str {
        match self {
            Self::Zh => zh,
            Self::En => en,
        }
    }
}
