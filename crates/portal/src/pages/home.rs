//! The main page: who the person is (the ID number masked, as identity
//! masks it) with the confirm button, and the card's progress.

use maud::{Markup, html};
use socsec_proto::{activation::v1 as act, card::v1 as card, identity::v1 as pb};

use super::layout::{self, date_of};
use crate::routes::Person;

pub fn page(
    person: &Person,
    record: &pb::Person,
    card: Option<&card::Card>,
    activation: Option<&act::CardActivation>,
) -> Markup {
    let lang = person.lang;
    let info = record.basic_info.clone().unwrap_or_default();
    let confirmed = record.status == pb::BasicInfoStatus::Confirmed as i32;
    layout::page(
        lang,
        lang.t("我的社保卡", "My social security card"),
        Some(person),
        html! {
            section aria-labelledby="info" {
                h2 #info { (lang.t("基本信息", "Basic information")) }
                dl {
                    dt { (lang.t("姓名", "Name")) } dd { (info.name) }
                    dt { (lang.t("身份证号", "ID number")) }
                    dd { (record.masked_id_number.clone().unwrap_or_default().masked) }
                    dt { (lang.t("参保地", "Region")) } dd { (record.region_code) }
                    dt { (lang.t("状态", "Status")) }
                    dd { @if confirmed { (lang.t("已确认", "Confirmed")) }
                         @else { (lang.t("待确认", "Not yet confirmed")) } }
                }
                @if !confirmed {
                    @if record.version > 1 {
                        p { (lang.t("窗口已更正您的信息，请核对后确认。", "The counter corrected your details; check them and confirm.")) }
                    }
                    form method="post" action="/confirm" {
                        (layout::csrf(&person.csrf))
                        input type="hidden" name="version" value=(record.version);
                        button type="submit" { (lang.t("信息无误，确认", "These are right: confirm")) }
                    }
                    p.hint { (lang.t("信息有误？请持身份证到社保经办窗口更正。", "Something wrong? The counter corrects it (bring your ID card).")) }
                }
            }
            section aria-labelledby="card" {
                h2 #card { (lang.t("社保卡进度", "Your card")) }
                @match card {
                    None => p { (lang.t("尚无社保卡。信息确认后，可在窗口或合作银行申领。", "No card yet. Once your details are confirmed, apply at the counter or a partner bank.")) },
                    Some(card) => (progress(person, card, activation)),
                }
            }
        },
    )
}

fn progress(
    person: &Person,
    card: &card::Card,
    activation: Option<&act::CardActivation>,
) -> Markup {
    let lang = person.lang;
    let status = card::CardStatus::try_from(card.status).unwrap_or(card::CardStatus::Unspecified);
    let received = card.received_at.is_some();
    let activated = activation.and_then(|a| a.activation.as_ref());
    let issued_on = card
        .issued_on
        .map(|d| format!("{:04}-{:02}-{:02}", d.year, d.month, d.day))
        .unwrap_or_default();
    let steps: [(&str, bool, String); 5] = [
        (lang.t("已申领", "Applied"), true, String::new()),
        (lang.t("已制卡", "Issued"), true, issued_on),
        (lang.t("可领取", "Ready to collect"), true, String::new()),
        (
            lang.t("已领卡", "Received"),
            received,
            date_of(card.received_at.as_ref()),
        ),
        (
            lang.t("已激活", "Activated"),
            activated.is_some(),
            activated
                .map(|a| date_of(a.activated_at.as_ref()))
                .unwrap_or_default(),
        ),
    ];
    let deadline = activation.and_then(|a| a.activation_deadline.as_ref());
    html! {
        p { (lang.t("卡号", "Card")) " " (card.card_number) " · " (status_name(person, status)) }
        ol.timeline {
            @for (name, done, when) in &steps {
                li class=(if *done { "done" } else { "todo" }) {
                    span.step { (name) }
                    @if !when.is_empty() { " " time { (when) } }
                    @if *done { span.visually-hidden { (lang.t("（已完成）", " (done)")) } }
                }
            }
        }
        @if status == card::CardStatus::Received && activated.is_none() {
            @if let Some(deadline) = deadline {
                p.deadline role="status" {
                    (lang.t("激活截止日期：", "Activate by: ")) strong { (date_of(Some(deadline))) }
                }
            }
            p { (lang.t(
                "逾期未激活，旧医保卡将被限制使用，直至新卡激活。",
                "If the deadline passes, your old medical card is restricted until the new card is activated."
            )) }
            h3 { (lang.t("在哪里激活", "Where to activate")) }
            ul {
                li { (lang.t("合作银行网点（带身份证和社保卡）", "A partner bank outlet (bring your ID card and the card)")) }
                li { (lang.t("在定点医院或药店首次使用", "First use at a designated hospital or pharmacy")) }
                li { (lang.t("拨打 12333 电话激活", "Call 12333")) }
            }
        }
        @if matches!(status, card::CardStatus::Issued | card::CardStatus::Received) {
            form method="post" action="/card/loss" {
                (layout::csrf(&person.csrf))
                button.danger type="submit" { (lang.t("挂失此卡", "Report this card lost")) }
            }
        }
    }
}

fn status_name(person: &Person, status: card::CardStatus) -> &'static str {
    let lang = person.lang;
    match status {
        card::CardStatus::Issued => lang.t("已制卡，待领取", "Issued, ready to collect"),
        card::CardStatus::Received => lang.t("已领取", "Received"),
        card::CardStatus::Lost => lang.t("已挂失", "Reported lost"),
        card::CardStatus::Replaced => lang.t("已补换", "Replaced"),
        card::CardStatus::Cancelled => lang.t("已注销", "Cancelled"),
        card::CardStatus::Unspecified => "-",
    }
}
