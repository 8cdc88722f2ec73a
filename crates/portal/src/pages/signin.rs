//! The sign-in form: ID number and online password, posted (never in the
//! address).

use maud::{Markup, html};

use super::layout;
use crate::i18n::Lang;

pub fn page(lang: Lang, csrf: &str, error: Option<&str>) -> Markup {
    layout::page(
        lang,
        lang.t("登录", "Sign in"),
        None,
        html! {
            @if let Some(error) = error { p.error role="alert" { (error) } }
            form method="post" action="/signin" {
                (layout::csrf(csrf))
                label for="id_number" { (lang.t("身份证号（社会保障号码）", "ID number (social security number)")) }
                input #id_number name="id_number" type="text" autocomplete="username"
                    inputmode="text" maxlength="18" required;
                label for="password" { (lang.t("网上服务密码", "Online service password")) }
                input #password name="password" type="password" autocomplete="current-password" required;
                button type="submit" { (lang.t("登录", "Sign in")) }
            }
            p.hint { (lang.t(
                "还没有网上服务密码？请持身份证到社保经办窗口申请。",
                "No online password yet? Apply at a social security counter with your ID card."
            )) }
        },
    )
}
