//! How much each card-issuance request may carry: every string and repeated
//! field's maximum, checked first by each parser (see `platform::limits`)
//! and listed in the README.

use platform::limits::{Bound, CODE, Documented, Limits, TEXT, TOKEN};
use socsec_proto::card::v1::{self as pb, get_card_request::Key};

pub static APPLY_FOR_CARD: Limits<pb::ApplyForCardRequest> = Limits {
    rpc: "ApplyForCard",
    bounds: &[
        Bound::chars("request_id", CODE, |r| &r.request_id),
        Bound::chars("person_id", CODE, |r| &r.person_id),
        Bound::chars("bank_code", CODE, |r| &r.bank_code),
        Bound::chars("issuing_region_code", CODE, |r| &r.issuing_region_code),
    ],
};

pub static ISSUE_CARD: Limits<pb::IssueCardRequest> = Limits {
    rpc: "IssueCard",
    bounds: &[
        Bound::chars("request_id", CODE, |r| &r.request_id),
        Bound::chars("application_id", CODE, |r| &r.application_id),
        Bound::chars("bank_card_number", CODE, |r| &r.bank_card_number),
        Bound::chars("bank_bin", CODE, |r| &r.bank_bin),
    ],
};

pub static ISSUE_CARDS: Limits<pb::IssueCardsRequest> = Limits {
    rpc: "IssueCards",
    bounds: &[
        Bound::chars("request_id", CODE, |r| &r.request_id),
        Bound::chars("bank_code", CODE, |r| &r.bank_code),
        Bound::chars("bank_bin", CODE, |r| &r.bank_bin),
    ],
};

/// Each record's strings are checked by the record's own parser (the same
/// `pii` parsers as every RPC): one record over them is rejected alone.
pub static IMPORT_CARDS: Limits<pb::ImportCardsRequest> = Limits {
    rpc: "ImportCards",
    bounds: &[
        Bound::chars("request_id", CODE, |r| &r.request_id),
        Bound::items("cards", platform::import::MAX_BATCH, |r| r.cards.len()),
        Bound::each_entry("cards[].holder_id_number", CODE),
        Bound::each_entry("cards[].card_number", CODE),
        Bound::each_entry("cards[].card_identification_code", CODE),
        Bound::each_entry("cards[].serial_number", CODE),
        Bound::each_entry("cards[].issuing_region_code", CODE),
        Bound::each_entry("cards[].bank_code", CODE),
        Bound::each_entry("cards[].bank_card_number", CODE),
        Bound::each_entry("cards[].activation.channel", CODE),
    ],
};

/// Each record is checked against `REGISTER_LEGACY_MEDICAL_CARD`'s bounds
/// by `RegisterLegacyMedicalCard`'s own parser.
pub static IMPORT_LEGACY_MEDICAL_CARDS: Limits<pb::ImportLegacyMedicalCardsRequest> = Limits {
    rpc: "ImportLegacyMedicalCards",
    bounds: &[
        Bound::chars("request_id", CODE, |r| &r.request_id),
        Bound::items("cards", platform::import::MAX_BATCH, |r| r.cards.len()),
        Bound::each_entry("cards[].holder_id_number", CODE),
        Bound::each_entry("cards[].card_number", CODE),
        Bound::each_entry("cards[].region_code", CODE),
    ],
};

pub static RECORD_RECEIPT: Limits<pb::RecordReceiptRequest> = Limits {
    rpc: "RecordReceipt",
    bounds: &[
        Bound::chars("request_id", CODE, |r| &r.request_id),
        Bound::chars("card_number", CODE, |r| &r.card_number),
    ],
};

pub static REPORT_LOSS: Limits<pb::ReportLossRequest> = Limits {
    rpc: "ReportLoss",
    bounds: &[
        Bound::chars("request_id", CODE, |r| &r.request_id),
        Bound::chars("card_number", CODE, |r| &r.card_number),
        Bound::chars("reason", TEXT, |r| &r.reason),
    ],
};

pub static REPLACE_CARD: Limits<pb::ReplaceCardRequest> = Limits {
    rpc: "ReplaceCard",
    bounds: &[
        Bound::chars("request_id", CODE, |r| &r.request_id),
        Bound::chars("card_number", CODE, |r| &r.card_number),
        Bound::chars("reason", TEXT, |r| &r.reason),
        Bound::chars("bank_card_number", CODE, |r| &r.bank_card_number),
        Bound::chars("bank_bin", CODE, |r| &r.bank_bin),
    ],
};

pub static CANCEL_CARD: Limits<pb::CancelCardRequest> = Limits {
    rpc: "CancelCard",
    bounds: &[
        Bound::chars("request_id", CODE, |r| &r.request_id),
        Bound::chars("card_number", CODE, |r| &r.card_number),
        Bound::chars("reason", TEXT, |r| &r.reason),
    ],
};

pub static GET_CARD: Limits<pb::GetCardRequest> = Limits {
    rpc: "GetCard",
    bounds: &[
        Bound::chars("card_number", CODE, |r| match &r.key {
            Some(Key::CardNumber(n)) => n,
            _ => "",
        }),
        Bound::chars("card_identification_code", CODE, |r| match &r.key {
            Some(Key::CardIdentificationCode(c)) => c,
            _ => "",
        }),
        Bound::chars("serial_number", CODE, |r| match &r.key {
            Some(Key::SerialNumber(s)) => s,
            _ => "",
        }),
    ],
};

pub static LIST_PERSON_CARDS: Limits<pb::ListPersonCardsRequest> = Limits {
    rpc: "ListPersonCards",
    bounds: &[Bound::chars("person_id", CODE, |r| &r.person_id)],
};

pub static REGISTER_LEGACY_MEDICAL_CARD: Limits<pb::RegisterLegacyMedicalCardRequest> = Limits {
    rpc: "RegisterLegacyMedicalCard",
    bounds: &[
        Bound::chars("request_id", CODE, |r| &r.request_id),
        Bound::chars("card_number", CODE, |r| &r.card_number),
        Bound::chars("person_id", CODE, |r| &r.person_id),
        Bound::chars("region_code", CODE, |r| &r.region_code),
    ],
};

pub static RETIRE_LEGACY_MEDICAL_CARD: Limits<pb::RetireLegacyMedicalCardRequest> = Limits {
    rpc: "RetireLegacyMedicalCard",
    bounds: &[
        Bound::chars("request_id", CODE, |r| &r.request_id),
        Bound::chars("card_number", CODE, |r| &r.card_number),
        Bound::chars("replaced_by_card_number", CODE, |r| {
            &r.replaced_by_card_number
        }),
    ],
};

pub static GET_LEGACY_MEDICAL_CARD: Limits<pb::GetLegacyMedicalCardRequest> = Limits {
    rpc: "GetLegacyMedicalCard",
    bounds: &[Bound::chars("card_number", CODE, |r| &r.card_number)],
};

pub static WATCH_CARD_EVENTS: Limits<pb::WatchCardEventsRequest> = Limits {
    rpc: "WatchCardEvents",
    bounds: &[Bound::chars("after.cursor", TOKEN, |r| {
        r.after.as_ref().map_or("", |a| &a.cursor)
    })],
};

pub static ISSUE_ECARD: Limits<pb::IssueEcardRequest> = Limits {
    rpc: "IssueEcard",
    bounds: &[
        Bound::chars("request_id", CODE, |r| &r.request_id),
        Bound::chars("card_number", CODE, |r| &r.card_number),
    ],
};

pub static ISSUE_ECARD_TOKEN: Limits<pb::IssueEcardTokenRequest> = Limits {
    rpc: "IssueEcardToken",
    bounds: &[Bound::chars("ecard_id", CODE, |r| &r.ecard_id)],
};

pub static REDEEM_ECARD_TOKEN: Limits<pb::RedeemEcardTokenRequest> = Limits {
    rpc: "RedeemEcardToken",
    bounds: &[
        Bound::chars("token", TOKEN, |r| &r.token),
        Bound::chars("request_id", CODE, |r| &r.request_id),
    ],
};

pub static SET_PIN: Limits<pb::SetPinRequest> = Limits {
    rpc: "SetPin",
    bounds: &[
        Bound::chars("request_id", CODE, |r| &r.request_id),
        Bound::chars("card_number", CODE, |r| &r.card_number),
        Bound::chars("pin", CODE, |r| &r.pin),
    ],
};

pub static CHANGE_PIN: Limits<pb::ChangePinRequest> = Limits {
    rpc: "ChangePin",
    bounds: &[
        Bound::chars("request_id", CODE, |r| &r.request_id),
        Bound::chars("card_number", CODE, |r| &r.card_number),
        Bound::chars("current_pin", CODE, |r| &r.current_pin),
        Bound::chars("new_pin", CODE, |r| &r.new_pin),
    ],
};

pub static RESET_PIN: Limits<pb::ResetPinRequest> = Limits {
    rpc: "ResetPin",
    bounds: &[
        Bound::chars("request_id", CODE, |r| &r.request_id),
        Bound::chars("card_number", CODE, |r| &r.card_number),
        Bound::chars("new_pin", CODE, |r| &r.new_pin),
    ],
};

pub static VERIFY_PIN: Limits<pb::VerifyPinRequest> = Limits {
    rpc: "VerifyPin",
    bounds: &[
        Bound::chars("card.card_number", CODE, |r| {
            r.card.as_ref().map_or("", |c| &c.card_number)
        }),
        Bound::chars("card.card_identification_code", CODE, |r| {
            r.card.as_ref().map_or("", |c| &c.card_identification_code)
        }),
        Bound::chars("pin", CODE, |r| &r.pin),
    ],
};

pub static GET_PIN_STATUS: Limits<pb::GetPinStatusRequest> = Limits {
    rpc: "GetPinStatus",
    bounds: &[Bound::chars("card_number", CODE, |r| &r.card_number)],
};

/// Every card-issuance RPC's limits, in the proto's order.
pub static ALL: &[&dyn Documented] = &[
    &APPLY_FOR_CARD,
    &ISSUE_CARD,
    &ISSUE_CARDS,
    &IMPORT_CARDS,
    &IMPORT_LEGACY_MEDICAL_CARDS,
    &RECORD_RECEIPT,
    &REPORT_LOSS,
    &REPLACE_CARD,
    &CANCEL_CARD,
    &GET_CARD,
    &LIST_PERSON_CARDS,
    &REGISTER_LEGACY_MEDICAL_CARD,
    &RETIRE_LEGACY_MEDICAL_CARD,
    &GET_LEGACY_MEDICAL_CARD,
    &WATCH_CARD_EVENTS,
    &ISSUE_ECARD,
    &ISSUE_ECARD_TOKEN,
    &REDEEM_ECARD_TOKEN,
    &SET_PIN,
    &CHANGE_PIN,
    &RESET_PIN,
    &VERIFY_PIN,
    &GET_PIN_STATUS,
];

#[cfg(test)]
mod tests {
    #[test]
    fn every_string_and_repeated_field_of_every_request_is_bounded() {
        assert_eq!(
            platform::limits::coverage_gaps("socsec.card.v1.CardService", super::ALL),
            Vec::<String>::new()
        );
    }
}
