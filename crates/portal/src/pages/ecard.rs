//! The electronic card's QR code (an SVG drawn on the server), shown on
//! request: each showing asks card-issuance for a fresh, short-lived token.

use maud::{Markup, PreEscaped, html};
use qrcode::{QrCode, render::svg};
use socsec_proto::card::v1 as pb;

use super::layout;
use crate::routes::Person;

pub fn page(person: &Person, token: Option<&pb::EcardToken>) -> Markup {
    let lang = person.lang;
    layout::page(
        lang,
        lang.t("电子社保卡", "Electronic card"),
        Some(person),
        html! {
            @if let Some(token) = token {
                figure.qr {
                    (PreEscaped(qr_svg(&token.token)))
                    figcaption {
                        (lang.t("就医购药时出示此码。有效至 ", "Show this code at a hospital or pharmacy. Valid until "))
                        (layout::date_time_of(token.expires_at.as_ref()))
                    }
                }
            }
            p { (lang.t(
                "第三代社保卡领卡后可使用电子社保卡。二维码几分钟后失效，需要时再次生成。",
                "A received third-generation card has an electronic card. A code expires within minutes; make a new one when needed."
            )) }
            form method="post" action="/ecard" {
                (layout::csrf(&person.csrf))
                button type="submit" { (lang.t("显示二维码", "Show my QR code")) }
            }
        },
    )
}

/// The QR code of `text` as an inline SVG element (no XML declaration).
fn qr_svg(text: &str) -> String {
    match QrCode::new(text.as_bytes()) {
        Ok(code) => {
            let image = code
                .render::<svg::Color<'_>>()
                .min_dimensions(240, 240)
                .quiet_zone(true)
                .build();
            match image.find("<svg") {
                Some(start) => {
                    image[start..].replacen("<svg", "<svg role=\"img\" aria-label=\"QR\"", 1)
                }
                None => String::new(),
            }
        }
        Err(_) => String::new(),
    }
}
