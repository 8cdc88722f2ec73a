//! Who may call which identity RPC. Object-level checks (a person sees only
//! their own record) are in the handlers.

use platform::auth::{Access, CallerKind::*, Policy};

macro_rules! rules {
    ($($method:literal => $access:expr),* $(,)?) => {
        &[$((concat!("/socsec.identity.v1.IdentityService/", $method), $access)),*]
    };
}

pub static POLICY: Policy = Policy {
    rules: rules![
        "RegisterPerson" => Access::Only(&[Operator]),
        "ImportPersons" => Access::Only(&[Operator]),
        "LookupPersons" => Access::Only(&[Operator, Service]),
        "GetPerson" => Access::Only(&[Operator, Service, Person]),
        "LookupPerson" => Access::Only(&[Operator, Service]),
        "VerifyIdentity" => Access::Only(&[Operator, Service, BankOutlet, HotlineCenter]),
        "VerifyHolder" => Access::Only(&[Operator, Service]),
        "ConfirmBasicInfo" => Access::Only(&[Operator, Person]),
        "CorrectBasicInfo" => Access::Only(&[Operator]),
        "ListBasicInfoVersions" => Access::Only(&[Operator, Person]),
        "SetOnlinePassword" => Access::Only(&[Operator]),
        "SignIn" => Access::Anyone,
        "SignOut" => Access::Only(&[Person]),
        "RevokeSessions" => Access::Only(&[Operator]),
        "CheckSession" => Access::Only(&[Service]),
        "RegisterPartner" => Access::Only(&[Operator]),
        "SetPartnerDesignation" => Access::Only(&[Operator]),
        "GetPartner" => Access::Only(&[
            Operator, Service, Bank, BankOutlet, Hospital, Pharmacy, HrAgency, Employer,
            HotlineCenter
        ]),
        "ListPartners" => Access::Only(&[Operator, Service]),
        "WatchIdentityEvents" => Access::Only(&[Operator, Service]),
    ],
};

#[cfg(test)]
mod tests {
    #[test]
    fn the_table_covers_every_rpc_exactly() {
        assert_eq!(
            super::POLICY.coverage_gaps("socsec.identity.v1.IdentityService"),
            Vec::<String>::new()
        );
    }
}
