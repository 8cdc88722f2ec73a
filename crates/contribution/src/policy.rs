//! Who may call which contribution RPC. Object-level checks (a person only
//! their own record; an employer only its employees; an agency only its
//! clients, under a contract the person confirmed; a payer only its own
//! bills) are rules in `domain::access` and `domain::contract`, applied by
//! the service.

use platform::auth::{Access, CallerKind::*, Policy};

macro_rules! rules {
    ($($method:literal => $access:expr),* $(,)?) => {
        &[$((concat!("/socsec.contribution.v1.ContributionService/", $method), $access)),*]
    };
}

pub static POLICY: Policy = Policy {
    rules: rules![
        "Enrol" => Access::Only(&[Operator, HrAgency, Person]),
        "RegisterAgencyContract" => Access::Only(&[Operator, HrAgency]),
        "ConfirmAgencyContract" => Access::Only(&[Operator, Person]),
        "EndAgencyContract" => Access::Only(&[Operator, Person, HrAgency]),
        "ListAgencyContracts" => Access::Only(&[Operator, Person, HrAgency]),
        "SetRateTable" => Access::Only(&[Operator]),
        "GetRateTable" => Access::Only(&[Operator, Service, Employer, HrAgency, Person]),
        "DeclareWage" => Access::Only(&[Operator, Employer, HrAgency, Person]),
        "RunMonth" => Access::Only(&[Operator]),
        "GetBill" => Access::Only(&[Operator, Employer, HrAgency, Person]),
        // Never the payer: the collecting bank confirms a payment (the
        // handler checks that the bank collects), or an operator.
        "RecordPayment" => Access::Only(&[Operator, Bank]),
        "ListArrears" => Access::Only(&[Operator]),
        "GetStatement" => Access::Only(&[Operator, Person, HrAgency]),
        "StreamStatement" => Access::Only(&[Operator, Person, HrAgency]),
        "CreatePaymentOrder" => Access::Only(&[Operator, Employer, HrAgency, Person]),
        "ReversePayment" => Access::Only(&[Operator, Bank]),
        "WatchContributionEvents" => Access::Only(&[Service]),
        "ImportEnrolments" => Access::Only(&[Operator]),
        "ImportWages" => Access::Only(&[Operator]),
    ],
};

#[cfg(test)]
mod tests {
    #[test]
    fn the_table_covers_every_rpc_exactly() {
        assert_eq!(
            super::POLICY.coverage_gaps("socsec.contribution.v1.ContributionService"),
            Vec::<String>::new()
        );
    }
}
