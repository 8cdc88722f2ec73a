//! The month-by-month contribution chart as an SVG built on the server by
//! hand (no chart crate: two bar series and an axis need none): per month,
//! the amount into the individual account and into the pooling fund, side
//! by side, with a text alternative. No inline style: colours are
//! presentation attributes, which a style-src CSP does not govern.

use std::collections::BTreeMap;

use maud::{Markup, html};
use socsec_proto::contribution::v1 as pb;

use crate::pages::layout::yuan;

/// Per month (`(year, month)`): (individual account, pooling fund), in fen.
pub fn by_month(lines: &[pb::StatementLine]) -> BTreeMap<(i32, i32), (i64, i64)> {
    let mut months = BTreeMap::new();
    for line in lines {
        let Some(period) = line.period else { continue };
        let amount = line.amount.unwrap_or_default().fen;
        let entry: &mut (i64, i64) = months.entry((period.year, period.month)).or_default();
        match pb::Account::try_from(line.account) {
            Ok(pb::Account::IndividualAccount) => entry.0 += amount,
            Ok(pb::Account::PoolingFund) => entry.1 += amount,
            _ => {}
        }
    }
    months
}

const HEIGHT: i64 = 160;
const BAR: i64 = 10;
const SLOT: i64 = 28;
const LEFT: i64 = 8;

pub fn svg(months: &BTreeMap<(i32, i32), (i64, i64)>, title: &str, labels: (&str, &str)) -> Markup {
    let max = months
        .values()
        .map(|(a, b)| (*a).max(*b))
        .max()
        .unwrap_or(0)
        .max(1);
    let width = LEFT * 2 + SLOT * i64::try_from(months.len()).unwrap_or(0).max(1);
    let scale = |fen: i64| fen.clamp(0, max) * HEIGHT / max;
    html! {
        svg.chart xmlns="http://www.w3.org/2000/svg" role="img" aria-labelledby="chart-title"
            viewBox=(format!("0 0 {width} {}", HEIGHT + 40)) preserveAspectRatio="xMinYMin meet" {
            title #chart-title { (title) }
            line x1=(LEFT) y1=(HEIGHT) x2=(width - LEFT) y2=(HEIGHT) stroke="#333" stroke-width="1" {}
            @for (i, ((year, month), (individual, pooling))) in months.iter().enumerate() {
                @let x = LEFT + SLOT * i64::try_from(i).unwrap_or(0) + 3;
                rect x=(x) y=(HEIGHT - scale(*individual)) width=(BAR) height=(scale(*individual)) fill="#1f5fa8" {
                    title { (format!("{year}-{month:02} {}: {}", labels.0, yuan(*individual))) }
                }
                rect x=(x + BAR + 1) y=(HEIGHT - scale(*pooling)) width=(BAR) height=(scale(*pooling)) fill="#b35900" {
                    title { (format!("{year}-{month:02} {}: {}", labels.1, yuan(*pooling))) }
                }
                text x=(x + BAR) y=(HEIGHT + 14) font-size="9" text-anchor="middle" fill="#222" { (format!("{month:02}")) }
                @if *month == 1 || i == 0 {
                    text x=(x + BAR) y=(HEIGHT + 28) font-size="9" text-anchor="middle" fill="#222" { (year) }
                }
            }
        }
    }
}
