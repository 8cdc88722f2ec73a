//! The medical-settlement PIN: set it (no PIN yet) or change it (with the
//! current one). The bank PIN belongs to the bank and is not here.

use maud::{Markup, html};
use socsec_proto::card::v1 as pb;

use super::layout;
use crate::routes::Person;

pub fn page(person: &Person, status: Option<&pb::PinStatus>, message: Option<&str>) -> Markup {
    let lang = person.lang;
    layout::page(
        lang,
        lang.t("医保结算密码", "Medical settlement PIN"),
        Some(person),
        html! {
            @if let Some(message) = message { p.notice role="status" { (message) } }
            @match status {
                None => p { (lang.t("领到社保卡后才能设置密码。", "You can set a PIN once you have received your card.")) },
                Some(status) if status.state == pb::PinState::Locked as i32 => p.error {
                    (lang.t("密码已锁定，请持身份证到社保经办窗口重置。", "Your PIN is locked: the counter resets it (bring your ID card)."))
                },
                Some(status) => {
                    @let set = status.state == pb::PinState::Set as i32;
                    p { @if set { (lang.t("密码已设置，可在此修改。", "Your PIN is set; you may change it here.")) }
                        @else { (lang.t("尚未设置密码。", "No PIN yet.")) } }
                    form method="post" action="/pin" {
                        (layout::csrf(&person.csrf))
                        @if set {
                            label for="current_pin" { (lang.t("当前密码", "Current PIN")) }
                            input #current_pin name="current_pin" type="password" inputmode="numeric"
                                autocomplete="off" pattern="[0-9]{6}" maxlength="6" required;
                        }
                        label for="new_pin" { (lang.t("新密码（6位数字）", "New PIN (6 digits)")) }
                        input #new_pin name="new_pin" type="password" inputmode="numeric"
                            autocomplete="off" pattern="[0-9]{6}" maxlength="6" required;
                        button type="submit" { @if set { (lang.t("修改密码", "Change PIN")) } @else { (lang.t("设置密码", "Set PIN")) } }
                    }
                }
            }
            p.hint { (lang.t(
                "银行密码由发卡银行管理，本系统不保存。",
                "The bank PIN belongs to your bank; we do not hold it."
            )) }
        },
    )
}
