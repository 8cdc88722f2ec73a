//! Who may call which activation RPC. Object-level checks (an outlet only
//! its bank's cards; designation in force) are in the handlers.

use platform::auth::{Access, CallerKind::*, Policy};

macro_rules! rules {
    ($($method:literal => $access:expr),* $(,)?) => {
        &[$((concat!("/socsec.activation.v1.ActivationService/", $method), $access)),*]
    };
}

pub static POLICY: Policy = Policy {
    rules: rules![
        "ActivateAtBankOutlet" => Access::Only(&[BankOutlet]),
        "ActivateAtHospital" => Access::Only(&[Hospital]),
        "ActivateAtPharmacy" => Access::Only(&[Pharmacy]),
        "ActivateWithFinancialFunction" => Access::Only(&[Bank]),
        "ActivateByHotline" => Access::Only(&[HotlineCenter]),
        "CheckEligibility" => Access::Only(&[Hospital, Pharmacy, Operator, Service]),
        "GetCardActivation" => Access::Only(&[Operator, Service, Person]),
        "ListApproachingDeadlines" => Access::Only(&[Operator]),
        "SetRegionPolicy" => Access::Only(&[Operator]),
        "GetRegionPolicy" => Access::Only(&[Operator, Service]),
        "WatchActivationEvents" => Access::Only(&[Service]),
    ],
};

#[cfg(test)]
mod tests {
    #[test]
    fn the_table_covers_every_rpc_exactly() {
        assert_eq!(
            super::POLICY.coverage_gaps("socsec.activation.v1.ActivationService"),
            Vec::<String>::new()
        );
    }
}
