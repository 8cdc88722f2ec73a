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
        "GetPerson" => Access::Only(&[Operator, Service, Person]),
        "LookupPerson" => Access::Only(&[Operator, Service]),
        "VerifyIdentity" => Access::Only(&[Operator, Service, Bank, BankOutlet, HotlineCenter]),
        "ConfirmBasicInfo" => Access::Only(&[Operator, Person]),
        "CorrectBasicInfo" => Access::Only(&[Operator]),
        "ListBasicInfoVersions" => Access::Only(&[Operator, Person]),
        "SetOnlinePassword" => Access::Only(&[Operator]),
        "SignIn" => Access::Anyone,
        "RegisterPartner" => Access::Only(&[Operator]),
        "SetPartnerDesignation" => Access::Only(&[Operator]),
        "GetPartner" => Access::Only(&[
            Operator, Service, Bank, BankOutlet, Hospital, Pharmacy, HrAgency, Employer,
            HotlineCenter
        ]),
        "ListPartners" => Access::Only(&[Operator, Service]),
        "ListAuditRecords" => Access::Only(&[Operator]),
        "WatchIdentityEvents" => Access::Only(&[Operator, Service]),
    ],
};

#[cfg(test)]
mod tests {
    use super::*;

    const SERVICE: &str = "/socsec.identity.v1.IdentityService/";

    #[test]
    fn every_rpc_of_the_service_has_a_rule() {
        let descriptor = socsec_proto::FILE_DESCRIPTOR_SET;
        let set = <prost_types::FileDescriptorSet as prost::Message>::decode(descriptor).unwrap();
        let service = set
            .file
            .iter()
            .flat_map(|f| &f.service)
            .find(|s| s.name() == "IdentityService")
            .unwrap();
        for method in &service.method {
            let path = format!("{SERVICE}{}", method.name());
            assert!(
                POLICY.rules.iter().any(|(m, _)| *m == path),
                "{path} has no rule"
            );
        }
        assert_eq!(POLICY.rules.len(), service.method.len());
    }
}
