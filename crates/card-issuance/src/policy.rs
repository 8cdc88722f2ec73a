//! Who may call which card RPC. Object-level checks (a bank sees only cards
//! carrying its financial function; a person only their own cards) are in
//! `domain::access`.

use platform::auth::{Access, CallerKind::*, Policy};

macro_rules! rules {
    ($($method:literal => $access:expr),* $(,)?) => {
        &[$((concat!("/socsec.card.v1.CardService/", $method), $access)),*]
    };
}

pub static POLICY: Policy = Policy {
    rules: rules![
        "ApplyForCard" => Access::Only(&[Operator]),
        "IssueCard" => Access::Only(&[Operator]),
        "IssueCards" => Access::Only(&[Operator]),
        "RecordReceipt" => Access::Only(&[Operator]),
        "ReportLoss" => Access::Only(&[Operator, Person]),
        "ReplaceCard" => Access::Only(&[Operator]),
        "CancelCard" => Access::Only(&[Operator]),
        "GetCard" => Access::Only(&[Operator, Service, Bank]),
        "ListPersonCards" => Access::Only(&[Operator, Service, Person]),
        "RegisterLegacyMedicalCard" => Access::Only(&[Operator]),
        "RetireLegacyMedicalCard" => Access::Only(&[Operator, Service]),
        "ImportCards" => Access::Only(&[Operator]),
        "ImportLegacyMedicalCards" => Access::Only(&[Operator]),
        "GetLegacyMedicalCard" => Access::Only(&[Operator, Service]),
        "WatchCardEvents" => Access::Only(&[Service]),
        "IssueEcard" => Access::Only(&[Operator, Person]),
        "IssueEcardToken" => Access::Only(&[Person]),
        "RedeemEcardToken" => Access::Only(&[Service]),
        "SetPin" => Access::Only(&[Person]),
        "ChangePin" => Access::Only(&[Person]),
        "ResetPin" => Access::Only(&[Operator]),
        "VerifyPin" => Access::Only(&[Hospital, Pharmacy]),
        "GetPinStatus" => Access::Only(&[Operator, Person]),
    ],
};

#[cfg(test)]
mod tests {
    #[test]
    fn the_table_covers_every_rpc_exactly() {
        assert_eq!(
            super::POLICY.coverage_gaps("socsec.card.v1.CardService"),
            Vec::<String>::new()
        );
    }
}
