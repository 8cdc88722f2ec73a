//! Contributions: chart, totals, insurances and payers (the enrolments as
//! the statement shows them), unpaid bills with late fees and a payment
//! order, and the CSV download.

use maud::{Markup, html};
use socsec_proto::contribution::v1 as pb;

use super::layout::{self, date_time_of, yuan};
use crate::{chart, i18n::Lang, routes::Person, routes::contribution::Contributions};

pub fn page(person: &Person, data: &Contributions) -> Markup {
    let lang = person.lang;
    let months = chart::by_month(&data.statement.lines);
    let mut insurances: Vec<(&str, &str)> = data
        .statement
        .lines
        .iter()
        .map(|l| (insurance_name(lang, l.insurance_type), l.payer.as_str()))
        .collect();
    insurances.sort_unstable();
    insurances.dedup();
    let own = format!("person:{}", person.person_id);
    layout::page(
        lang,
        lang.t("缴费记录", "Contributions"),
        Some(person),
        html! {
            section aria-labelledby="totals" {
                h2 #totals { (lang.t("近24个月合计", "Last 24 months")) }
                dl {
                    dt { (lang.t("计入个人账户", "Into your individual account")) }
                    dd { (yuan(data.statement.individual_account_total.unwrap_or_default().fen)) }
                    dt { (lang.t("计入统筹基金", "Into the pooling fund")) }
                    dd { (yuan(data.statement.pooling_fund_total.unwrap_or_default().fen)) }
                }
            }
            section aria-labelledby="by-month" {
                h2 #by-month { (lang.t("按月缴费", "Month by month")) }
                @if months.is_empty() { p { (lang.t("暂无缴费记录。", "No contributions yet.")) } }
                @else {
                    (chart::svg(&months, lang.t("每月缴费金额", "Contributions per month"),
                        (lang.t("个人账户", "individual account"), lang.t("统筹基金", "pooling fund"))))
                    p.legend {
                        span.key-individual { (lang.t("■ 个人账户", "■ Individual account")) } " "
                        span.key-pooling { (lang.t("■ 统筹基金", "■ Pooling fund")) }
                    }
                    table {
                        caption { (lang.t("每月明细", "Per month")) }
                        thead { tr { th scope="col" { (lang.t("月份", "Month")) }
                            th scope="col" { (lang.t("个人账户", "Individual")) }
                            th scope="col" { (lang.t("统筹基金", "Pooling")) } } }
                        tbody { @for ((y, m), (i, p)) in months.iter().rev() {
                            tr { th scope="row" { (format!("{y}-{m:02}")) } td { (yuan(*i)) } td { (yuan(*p)) } }
                        } }
                    }
                }
                p { a.button href="/contributions/statement.csv" download="statement.csv" {
                    (lang.t("下载明细（CSV）", "Download the statement (CSV)")) } }
            }
            section aria-labelledby="enrolments" {
                h2 #enrolments { (lang.t("参保险种", "Your insurances")) }
                ul { @for (name, payer) in &insurances {
                    li { (name) " — " (payer_name(lang, payer, &own)) }
                } }
            }
            section aria-labelledby="arrears" {
                h2 #arrears { (lang.t("欠费与滞纳金", "Arrears and late fees")) }
                @if data.unpaid.is_empty() { p { (lang.t("没有欠费。", "Nothing outstanding.")) } }
                @for bill in &data.unpaid { (unpaid(person, bill)) }
            }
        },
    )
}

fn unpaid(person: &Person, bill: &pb::Bill) -> Markup {
    let lang = person.lang;
    let period = bill.period.unwrap_or_default();
    let period = format!("{:04}-{:02}", period.year, period.month);
    let fen = |m: Option<socsec_proto::common::v1::Money>| yuan(m.unwrap_or_default().fen);
    html! {
        div.bill {
            h3 { (period) }
            dl {
                dt { (lang.t("应缴", "Contributions")) } dd { (fen(bill.contributions)) }
                dt { (lang.t("滞纳金", "Late fee")) } dd { (fen(bill.late_fee)) }
                dt { (lang.t("已缴", "Paid")) } dd { (fen(bill.paid)) }
                dt { (lang.t("待缴", "Outstanding")) } dd { strong { (fen(bill.outstanding)) } }
            }
            form method="post" action="/contributions/pay" {
                (layout::csrf(&person.csrf))
                input type="hidden" name="period" value=(period);
                button type="submit" { (lang.t("生成缴费单", "Start a payment order")) }
            }
        }
    }
}

pub fn order(person: &Person, order: &pb::PaymentOrder) -> Markup {
    let lang = person.lang;
    let period = order.period.unwrap_or_default();
    layout::page(
        lang,
        lang.t("缴费单", "Payment order"),
        Some(person),
        html! {
            dl {
                dt { (lang.t("缴费单号", "Order number")) } dd { code { (order.order_id) } }
                dt { (lang.t("月份", "Month")) } dd { (format!("{:04}-{:02}", period.year, period.month)) }
                dt { (lang.t("金额", "Amount")) } dd { strong { (yuan(order.amount.unwrap_or_default().fen)) } }
                dt { (lang.t("有效至", "Valid until")) } dd { (date_time_of(order.expires_at.as_ref())) }
            }
            p { (lang.t(
                "请在当天通过合作银行（柜台、网银或手机银行）凭缴费单号缴纳；银行确认后记录会更新。",
                "Pay it today at a partner bank (counter, online or mobile banking) quoting the order number; your record updates once the bank confirms."
            )) }
            p { a href="/contributions" { (lang.t("返回缴费记录", "Back to contributions")) } }
        },
    )
}

fn insurance_name(lang: Lang, value: i32) -> &'static str {
    match pb::InsuranceType::try_from(value) {
        Ok(pb::InsuranceType::OldAge) => lang.t("养老保险", "Old-age insurance"),
        Ok(pb::InsuranceType::Medical) => lang.t("医疗保险", "Medical insurance"),
        Ok(pb::InsuranceType::Unemployment) => lang.t("失业保险", "Unemployment insurance"),
        Ok(pb::InsuranceType::WorkInjury) => lang.t("工伤保险", "Work-injury insurance"),
        Ok(pb::InsuranceType::Maternity) => lang.t("生育保险", "Maternity insurance"),
        _ => "-",
    }
}

fn payer_name(lang: Lang, payer: &str, own: &str) -> String {
    if payer == own {
        return lang
            .t("本人缴纳（灵活就业）", "paid by you (flexible worker)")
            .to_owned();
    }
    match payer.split_once(':') {
        Some(("employer", code)) => format!("{}{code}", lang.t("单位缴纳：", "through employer ")),
        Some(("hr_agency", code)) => format!(
            "{}{code}",
            lang.t("人力资源机构代缴：", "through HR agency ")
        ),
        _ => payer.to_owned(),
    }
}
