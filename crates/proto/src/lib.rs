//! Generated code for the `socsec.*` protobuf packages, and the encoded file
//! descriptor set that servers register for gRPC reflection.

/// Every `socsec.*` file, encoded as a `FileDescriptorSet`.
pub const FILE_DESCRIPTOR_SET: &[u8] =
    include_bytes!(concat!(env!("OUT_DIR"), "/socsec_descriptor.bin"));

pub mod common {
    pub mod v1 {
        tonic::include_proto!("socsec.common.v1");
    }
}

pub mod audit {
    pub mod v1 {
        tonic::include_proto!("socsec.audit.v1");
    }
}

pub mod identity {
    pub mod v1 {
        tonic::include_proto!("socsec.identity.v1");
    }
}

pub mod card {
    // Events carry a whole card in one oneof arm; boxing it would only
    // complicate every producer and consumer.
    #[allow(clippy::large_enum_variant)]
    pub mod v1 {
        tonic::include_proto!("socsec.card.v1");
    }
}

pub mod activation {
    pub mod v1 {
        tonic::include_proto!("socsec.activation.v1");
    }
}

pub mod contribution {
    pub mod v1 {
        tonic::include_proto!("socsec.contribution.v1");
    }
}
