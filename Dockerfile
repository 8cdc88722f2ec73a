# The socsec image: the four service binaries and the `socsec` CLI on a
# minimal runtime (distroless, glibc, no shell, no package manager), run as
# a non-root user. No configuration, certificate or key is inside: each
# Deployment names its binary and mounts its Secrets (see deploy/k8s/).
#
#   docker build -t socsec:dev .        (or deploy/image.sh, which also runs it)
#
# Base images are pinned by version; pin them by digest in the release
# pipeline that pushes the image.

FROM docker.io/library/rust:1.95.0-bookworm AS builder
WORKDIR /src
# The workspace (every member, the tests crate included, so cargo can load
# it). The cache mounts keep the crate registry and the build between builds.
COPY Cargo.toml Cargo.lock ./
COPY crates crates
COPY tests tests
COPY proto proto
RUN --mount=type=cache,target=/usr/local/cargo/registry,sharing=locked \
    --mount=type=cache,target=/src/target,sharing=locked \
    cargo build --release --locked \
        -p identity -p card-issuance -p activation -p contribution -p socsec-cli \
 && mkdir -p /out \
 && cp target/release/identity target/release/card-issuance \
       target/release/activation target/release/contribution \
       target/release/socsec /out/

# glibc and libgcc (ring and the Rust runtime need them); the `nonroot`
# variant's user is 65532.
FROM gcr.io/distroless/cc-debian12:nonroot
COPY --from=builder /out/ /usr/local/bin/
USER 65532:65532
# No default service: each Deployment names its binary. Without one, the CLI.
ENTRYPOINT ["/usr/local/bin/socsec"]
CMD ["--help"]
