//! gRPC reflection, for generic tools (grpcurl, Postman, grpcui).

/// Reflection in both versions (grpcurl before 1.9 speaks only v1alpha),
/// with the `google.rpc` error details so generic clients decode them.
pub fn services() -> (
    tonic_reflection::server::v1::ServerReflectionServer<
        impl tonic_reflection::server::v1::ServerReflection,
    >,
    tonic_reflection::server::v1alpha::ServerReflectionServer<
        impl tonic_reflection::server::v1alpha::ServerReflection,
    >,
) {
    let builder = || {
        tonic_reflection::server::Builder::configure()
            .register_encoded_file_descriptor_set(socsec_proto::FILE_DESCRIPTOR_SET)
            .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
            .register_encoded_file_descriptor_set(tonic_types::pb::FILE_DESCRIPTOR_SET)
    };
    let valid = "descriptor sets compiled into the binary are valid";
    (
        builder().build_v1().expect(valid),
        builder().build_v1alpha().expect(valid),
    )
}
