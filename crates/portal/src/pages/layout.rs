//! The page shell (language, viewport, the stylesheet, navigation, the
//! sign-out form), the problem page, and formatting shared by the pages.

use maud::{DOCTYPE, Markup, html};

use crate::{i18n::Lang, routes::Person};

/// A whole page. `person`: signed in (navigation and sign-out shown).
pub fn page(lang: Lang, title: &str, person: Option<&Person>, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang=(lang.code()) {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · " (lang.t("社会保障个人服务", "Social security self-service")) }
                link rel="stylesheet" href="/static/portal.css";
            }
            body {
                a.skip href="#main" { (lang.t("跳到正文", "Skip to content")) }
                header {
                    p.brand { (lang.t("社会保障个人服务", "Social security self-service")) }
                    nav aria-label=(lang.t("语言", "Language")) {
                        a href="?lang=zh" lang="zh-CN" { "中文" } " · "
                        a href="?lang=en" lang="en" { "English" }
                    }
                    @if let Some(person) = person {
                        nav aria-label=(lang.t("主菜单", "Main menu")) {
                            ul {
                                li { a href="/" { (lang.t("我的社保卡", "My card")) } }
                                li { a href="/contributions" { (lang.t("缴费记录", "Contributions")) } }
                                li { a href="/pin" { (lang.t("医保密码", "Medical PIN")) } }
                                li { a href="/ecard" { (lang.t("电子社保卡", "E-card")) } }
                            }
                        }
                        form method="post" action="/signout" {
                            (csrf(&person.csrf))
                            button type="submit" { (lang.t("退出登录", "Sign out")) }
                        }
                    }
                }
                main #main { h1 { (title) } (body) }
                footer { p { (lang.t("咨询电话 12333", "Helpline 12333")) } }
            }
        }
    }
}

/// The hidden CSRF field every form carries.
pub fn csrf(token: &str) -> Markup {
    html! { input type="hidden" name="csrf" value=(token); }
}

pub fn problem(lang: Lang, message: &str, reason: &str) -> Markup {
    page(
        lang,
        lang.t("无法完成", "Could not be done"),
        None,
        html! {
            p.error role="alert" { (message) }
            p.reason { (lang.t("原因代码：", "Reason code: ")) code { (reason) } }
            p { a href="/" { (lang.t("返回首页", "Back to the main page")) } }
        },
    )
}

/// A person-readable sentence for a service's refusal reason.
pub fn explain(lang: Lang, reason: &str) -> &'static str {
    match reason {
        "PIN_TRIVIAL" | "PIN_INVALID" => lang.t(
            "密码须为6位数字，且不能是重复或连续的数字。",
            "A PIN is 6 digits, not one digit repeated nor a run such as 123456.",
        ),
        "PIN_WRONG" | "PIN_MISMATCH" => lang.t("当前密码不正确。", "The current PIN is not right."),
        "PIN_LOCKED" => lang.t(
            "密码已锁定，请到社保经办窗口重置。",
            "The PIN is locked; the counter resets it.",
        ),
        "BASIC_INFO_VERSION_MISMATCH" | "VERSION_MISMATCH" => lang.t(
            "信息已被窗口更正，请重新核对。",
            "The counter corrected your details since; check them again.",
        ),
        "NOTHING_OUTSTANDING" | "BILL_NOT_FOUND" => lang.t(
            "该月没有待缴费用。",
            "Nothing is outstanding for that month.",
        ),
        _ => lang.t(
            "服务暂时无法完成此操作，请稍后再试或拨打12333。",
            "The service could not do this now; try again later or call 12333.",
        ),
    }
}

/// An amount in fen as yuan: `¥1,234.56`.
pub fn yuan(fen: i64) -> String {
    let sign = if fen < 0 { "-" } else { "" };
    let fen = fen.unsigned_abs();
    let whole = (fen / 100).to_string();
    let mut grouped = String::new();
    for (i, c) in whole.chars().enumerate() {
        if i > 0 && (whole.len() - i).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(c);
    }
    format!("{sign}¥{grouped}.{:02}", fen % 100)
}

/// A timestamp as a China-time date.
pub fn date_of(at: Option<&prost_types::Timestamp>) -> String {
    let china = chrono::FixedOffset::east_opt(8 * 3600).expect("UTC+8 is a valid offset");
    at.and_then(|t| chrono::DateTime::from_timestamp(t.seconds, 0))
        .map(|t| t.with_timezone(&china).format("%Y-%m-%d").to_string())
        .unwrap_or_default()
}

/// A timestamp as China-time date and minute.
pub fn date_time_of(at: Option<&prost_types::Timestamp>) -> String {
    let china = chrono::FixedOffset::east_opt(8 * 3600).expect("UTC+8 is a valid offset");
    at.and_then(|t| chrono::DateTime::from_timestamp(t.seconds, 0))
        .map(|t| t.with_timezone(&china).format("%Y-%m-%d %H:%M").to_string())
        .unwrap_or_default()
}
