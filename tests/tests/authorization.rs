//! Every RPC of every service, called with every caller kind and with no
//! credential, against the services' authorization tables: allowed calls get
//! past authorization, every other call is refused with a reason.

use std::time::Duration;

use http::uri::PathAndQuery;
use platform::auth::{Access, CallerKind, Policy};
use system_tests::{System, reason};
use tonic::{Code, Request, client::Grpc, transport::Channel};
use tonic_prost::ProstCodec;

/// Calls `path` with an empty message as `caller` (none: no credential).
async fn call(channel: Channel, path: &'static str, caller: Option<String>) -> tonic::Status {
    let mut grpc = Grpc::new(channel);
    let mut request = Request::new(());
    request.set_timeout(Duration::from_millis(500));
    if let Some(caller) = caller {
        request
            .metadata_mut()
            .insert(platform::auth::DEV_CALLER_HEADER, caller.parse().unwrap());
    }
    grpc.ready().await.unwrap();
    let answer = grpc.unary::<(), (), _>(
        request,
        PathAndQuery::from_static(path),
        ProstCodec::default(),
    );
    // A watch stream that got past authorization stays open: that is an answer too.
    match tokio::time::timeout(Duration::from_secs(1), answer).await {
        Ok(Ok(_)) | Err(_) => tonic::Status::ok(""),
        Ok(Err(status)) => status,
    }
}

/// Refused by authorization rather than by the handler.
fn refused_by_policy(status: &tonic::Status) -> bool {
    matches!(
        reason(status).as_str(),
        "CALLER_KIND_NOT_ALLOWED"
            | "CREDENTIAL_MISSING"
            | "CREDENTIAL_INVALID"
            | "METHOD_NOT_ALLOWED"
    )
}

async fn check(channel: Channel, policy: &'static Policy) -> usize {
    let mut checked = 0;
    for (path, access) in policy.rules {
        let missing = call(channel.clone(), path, None).await;
        match access {
            Access::Anyone => assert!(
                !refused_by_policy(&missing),
                "{path} without credential: {missing:?}"
            ),
            Access::Only(_) => {
                assert_eq!(
                    missing.code(),
                    Code::Unauthenticated,
                    "{path} without credential"
                );
                assert_eq!(reason(&missing), "CREDENTIAL_MISSING", "{path}");
            }
        }
        for kind in CallerKind::ALL {
            let status = call(
                channel.clone(),
                path,
                Some(format!("{}:CALLER-1", kind.as_str())),
            )
            .await;
            let allowed = match access {
                Access::Anyone => true,
                Access::Only(kinds) => kinds.contains(&kind),
            };
            if allowed {
                assert!(
                    !refused_by_policy(&status),
                    "{path} as {}: {status:?}",
                    kind.as_str()
                );
            } else {
                assert_eq!(
                    status.code(),
                    Code::PermissionDenied,
                    "{path} as {}: {status:?}",
                    kind.as_str()
                );
                assert_eq!(
                    reason(&status),
                    "CALLER_KIND_NOT_ALLOWED",
                    "{path} as {}",
                    kind.as_str()
                );
            }
            checked += 1;
        }
    }
    checked
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_rpc_of_every_service_with_every_caller_kind() {
    let system = System::start().await;
    let mut checked = 0;
    checked += check(system.identity.channel().await, &identity::policy::POLICY).await;
    checked += check(system.cards.channel().await, &card_issuance::policy::POLICY).await;
    checked += check(
        system.activation.channel().await,
        &activation::policy::POLICY,
    )
    .await;
    checked += check(
        system.contribution.channel().await,
        &contribution::policy::POLICY,
    )
    .await;
    // 16 + 13 + 11 + 11 RPCs, ten caller kinds each.
    assert_eq!(checked, (16 + 13 + 11 + 11) * 10);
}

#[tokio::test]
async fn a_method_missing_from_the_table_is_refused() {
    let system = System::start().await;
    let status = call(
        system.identity.channel().await,
        "/socsec.identity.v1.IdentityService/NoSuchMethod",
        Some("operator:OP0001".into()),
    )
    .await;
    assert_eq!(status.code(), Code::PermissionDenied);
    assert_eq!(reason(&status), "METHOD_NOT_ALLOWED");
}
