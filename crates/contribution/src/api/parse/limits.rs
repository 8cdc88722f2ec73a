//! How much each contribution request may carry: every string and repeated
//! field's maximum, checked first by each parser (see `platform::limits`)
//! and listed in the README.

use platform::limits::{Bound, CODE, Documented, Limits, TEXT, TOKEN};
use socsec_proto::contribution::v1 as pb;

use crate::domain::InsuranceType;

/// An enrolment names each insurance type at most once.
pub const INSURANCE_TYPES_MAX: usize = InsuranceType::ALL.len();

pub static ENROL: Limits<pb::EnrolRequest> = Limits {
    rpc: "Enrol",
    bounds: &[
        Bound::chars("request_id", CODE, |r| &r.request_id),
        Bound::chars("person_id", CODE, |r| &r.person_id),
        Bound::chars("region_code", CODE, |r| &r.region_code),
        Bound::items("insurance_types", INSURANCE_TYPES_MAX, |r| {
            r.insurance_types.len()
        }),
        Bound::chars("employer_code", CODE, |r| &r.employer_code),
        Bound::chars("agency_contract_id", CODE, |r| &r.agency_contract_id),
    ],
};

pub static REGISTER_AGENCY_CONTRACT: Limits<pb::RegisterAgencyContractRequest> = Limits {
    rpc: "RegisterAgencyContract",
    bounds: &[
        Bound::chars("request_id", CODE, |r| &r.request_id),
        Bound::chars("agency_code", CODE, |r| &r.agency_code),
        Bound::chars("person_id", CODE, |r| &r.person_id),
    ],
};

pub static CONFIRM_AGENCY_CONTRACT: Limits<pb::ConfirmAgencyContractRequest> = Limits {
    rpc: "ConfirmAgencyContract",
    bounds: &[
        Bound::chars("request_id", CODE, |r| &r.request_id),
        Bound::chars("contract_id", CODE, |r| &r.contract_id),
    ],
};

pub static END_AGENCY_CONTRACT: Limits<pb::EndAgencyContractRequest> = Limits {
    rpc: "EndAgencyContract",
    bounds: &[
        Bound::chars("request_id", CODE, |r| &r.request_id),
        Bound::chars("contract_id", CODE, |r| &r.contract_id),
    ],
};

pub static LIST_AGENCY_CONTRACTS: Limits<pb::ListAgencyContractsRequest> = Limits {
    rpc: "ListAgencyContracts",
    bounds: &[
        Bound::chars("person_id", CODE, |r| &r.person_id),
        Bound::chars("page.page_token", TOKEN, |r| {
            r.page.as_ref().map_or("", |p| &p.page_token)
        }),
    ],
};

pub static SET_RATE_TABLE: Limits<pb::SetRateTableRequest> = Limits {
    rpc: "SetRateTable",
    bounds: &[
        Bound::chars("request_id", CODE, |r| &r.request_id),
        Bound::chars("table.region_code", CODE, |r| {
            r.table.as_ref().map_or("", |t| &t.region_code)
        }),
    ],
};

pub static GET_RATE_TABLE: Limits<pb::GetRateTableRequest> = Limits {
    rpc: "GetRateTable",
    bounds: &[Bound::chars("region_code", CODE, |r| &r.region_code)],
};

pub static DECLARE_WAGE: Limits<pb::DeclareWageRequest> = Limits {
    rpc: "DeclareWage",
    bounds: &[
        Bound::chars("request_id", CODE, |r| &r.request_id),
        Bound::chars("person_id", CODE, |r| &r.person_id),
    ],
};

pub static RUN_MONTH: Limits<pb::RunMonthRequest> = Limits {
    rpc: "RunMonth",
    bounds: &[
        Bound::chars("request_id", CODE, |r| &r.request_id),
        Bound::chars("region_code", CODE, |r| &r.region_code),
        Bound::chars("payer_code", CODE, |r| &r.payer_code),
    ],
};

pub static GET_BILL: Limits<pb::GetBillRequest> = Limits {
    rpc: "GetBill",
    bounds: &[Bound::chars("payer", CODE, |r| &r.payer)],
};

pub static RECORD_PAYMENT: Limits<pb::RecordPaymentRequest> = Limits {
    rpc: "RecordPayment",
    bounds: &[
        Bound::chars("request_id", CODE, |r| &r.request_id),
        Bound::chars("order_id", CODE, |r| &r.order_id),
        Bound::chars("bank_reference", CODE, |r| &r.bank_reference),
        Bound::chars("bank_code", CODE, |r| &r.bank_code),
    ],
};

pub static LIST_ARREARS: Limits<pb::ListArrearsRequest> = Limits {
    rpc: "ListArrears",
    bounds: &[
        Bound::chars("region_code", CODE, |r| &r.region_code),
        Bound::chars("page.page_token", TOKEN, |r| {
            r.page.as_ref().map_or("", |p| &p.page_token)
        }),
    ],
};

pub static GET_STATEMENT: Limits<pb::GetStatementRequest> = Limits {
    rpc: "GetStatement",
    bounds: &[
        Bound::chars("person_id", CODE, |r| &r.person_id),
        Bound::chars("page.page_token", TOKEN, |r| {
            r.page.as_ref().map_or("", |p| &p.page_token)
        }),
    ],
};

pub static STREAM_STATEMENT: Limits<pb::StreamStatementRequest> = Limits {
    rpc: "StreamStatement",
    bounds: &[Bound::chars("person_id", CODE, |r| &r.person_id)],
};

pub static CREATE_PAYMENT_ORDER: Limits<pb::CreatePaymentOrderRequest> = Limits {
    rpc: "CreatePaymentOrder",
    bounds: &[
        Bound::chars("request_id", CODE, |r| &r.request_id),
        Bound::chars("payer", CODE, |r| &r.payer),
    ],
};

pub static REVERSE_PAYMENT: Limits<pb::ReversePaymentRequest> = Limits {
    rpc: "ReversePayment",
    bounds: &[
        Bound::chars("request_id", CODE, |r| &r.request_id),
        Bound::chars("bank_code", CODE, |r| &r.bank_code),
        Bound::chars("bank_reference", CODE, |r| &r.bank_reference),
        Bound::chars("reason", TEXT, |r| &r.reason),
    ],
};

pub static WATCH_CONTRIBUTION_EVENTS: Limits<pb::WatchContributionEventsRequest> = Limits {
    rpc: "WatchContributionEvents",
    bounds: &[Bound::chars("after.cursor", TOKEN, |r| {
        r.after.as_ref().map_or("", |a| &a.cursor)
    })],
};

/// Each record is checked against `ENROL`'s bounds by `Enrol`'s own
/// parser: one record over them is rejected alone.
pub static IMPORT_ENROLMENTS: Limits<pb::ImportEnrolmentsRequest> = Limits {
    rpc: "ImportEnrolments",
    bounds: &[
        Bound::chars("request_id", CODE, |r| &r.request_id),
        Bound::items("enrolments", platform::import::MAX_BATCH, |r| {
            r.enrolments.len()
        }),
        Bound::each_entry("enrolments[].holder_id_number", CODE),
        Bound::each_entry("enrolments[].region_code", CODE),
        Bound::each_entry("enrolments[].employer_code", CODE),
    ],
};

/// Each record is checked by `DeclareWage`'s own parser.
pub static IMPORT_WAGES: Limits<pb::ImportWagesRequest> = Limits {
    rpc: "ImportWages",
    bounds: &[
        Bound::chars("request_id", CODE, |r| &r.request_id),
        Bound::items("wages", platform::import::MAX_BATCH, |r| r.wages.len()),
        Bound::each_entry("wages[].holder_id_number", CODE),
    ],
};

/// Every contribution RPC's limits, in the proto's order.
pub static ALL: &[&dyn Documented] = &[
    &ENROL,
    &REGISTER_AGENCY_CONTRACT,
    &CONFIRM_AGENCY_CONTRACT,
    &END_AGENCY_CONTRACT,
    &LIST_AGENCY_CONTRACTS,
    &SET_RATE_TABLE,
    &GET_RATE_TABLE,
    &DECLARE_WAGE,
    &RUN_MONTH,
    &GET_BILL,
    &RECORD_PAYMENT,
    &LIST_ARREARS,
    &GET_STATEMENT,
    &STREAM_STATEMENT,
    &CREATE_PAYMENT_ORDER,
    &REVERSE_PAYMENT,
    &WATCH_CONTRIBUTION_EVENTS,
    &IMPORT_ENROLMENTS,
    &IMPORT_WAGES,
];

#[cfg(test)]
mod tests {
    #[test]
    fn every_string_and_repeated_field_of_every_request_is_bounded() {
        assert_eq!(
            platform::limits::coverage_gaps(
                "socsec.contribution.v1.ContributionService",
                super::ALL
            ),
            Vec::<String>::new()
        );
    }
}
