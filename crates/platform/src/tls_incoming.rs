//! Accepting TLS connections ourselves, so that a connection may speak
//! HTTP/2 (gRPC) or HTTP/1.1 (the JSON interface) on the same port.
//!
//! tonic's acceptor offers only ALPN `h2`, and rustls ends the handshake of a
//! client that offers only `http/1.1` (most HTTP/1.1 clients, curl
//! `--http1.1`, Python's requests). This one offers both and otherwise does
//! what tonic's does: the caller's certificate is optional and verified
//! against both CAs, a handshake gets `timeout`, and tonic reads the peer's
//! certificates from the stream (`TlsConnectInfo`), so the auth layer sees
//! the same identity either way. Handshakes run concurrently: a slow client
//! holds only its own task.

use std::{io::Cursor, sync::Arc, time::Duration};

use futures::{Stream, StreamExt};
use tokio::net::TcpStream;
use tokio_rustls::{
    TlsAcceptor,
    rustls::{
        RootCertStore, ServerConfig,
        pki_types::{CertificateDer, PrivateKeyDer, pem::PemObject},
        server::WebPkiClientVerifier,
    },
    server::TlsStream,
};
use tokio_stream::wrappers::ReceiverStream;

use crate::host::Tasks;

/// A rustls server configuration: `cert_pem`/`key_pem` presented, client
/// certificates optional and chaining to one of `client_roots_pem`.
pub fn server_config(
    client_roots_pem: &[u8],
    cert_pem: &[u8],
    key_pem: &[u8],
) -> Result<Arc<ServerConfig>, String> {
    let certs = |pem: &[u8]| {
        CertificateDer::pem_reader_iter(&mut Cursor::new(pem))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| format!("not a PEM certificate: {e}"))
    };
    let mut roots = RootCertStore::empty();
    roots.add_parsable_certificates(certs(client_roots_pem)?);
    let verifier = WebPkiClientVerifier::builder(roots.into())
        .allow_unauthenticated()
        .build()
        .map_err(|e| format!("client CAs: {e}"))?;
    let key = PrivateKeyDer::from_pem_reader(&mut Cursor::new(key_pem))
        .map_err(|e| format!("not a PEM private key: {e}"))?;
    let mut config = ServerConfig::builder()
        .with_client_cert_verifier(verifier)
        .with_single_cert(certs(cert_pem)?, key)
        .map_err(|e| format!("certificate and key: {e}"))?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

/// The TLS connections made on `tcp`'s connections; a failed or timed-out
/// handshake is logged and dropped. Ends when `tcp` ends or the service
/// stops.
pub fn accept<S>(
    tcp: S,
    config: Arc<ServerConfig>,
    timeout: Duration,
    tasks: &Tasks,
) -> impl Stream<Item = Result<TlsStream<TcpStream>, std::io::Error>> + Send + 'static
where
    S: Stream<Item = Result<TcpStream, std::io::Error>> + Send + 'static,
{
    let (ready_tx, ready_rx) = tokio::sync::mpsc::channel(64);
    let acceptor = TlsAcceptor::from(config);
    tasks.spawn_until_stopped(async move {
        let mut tcp = std::pin::pin!(tcp);
        while let Some(connection) = tcp.next().await {
            let stream = match connection {
                Ok(stream) => stream,
                Err(e) => {
                    tracing::debug!(error = %e, "accept failed");
                    continue;
                }
            };
            let acceptor = acceptor.clone();
            let ready = ready_tx.clone();
            tokio::spawn(async move {
                match tokio::time::timeout(timeout, acceptor.accept(stream)).await {
                    Ok(Ok(tls)) => {
                        let _ = ready.send(Ok(tls)).await;
                    }
                    Ok(Err(e)) => tracing::debug!(error = %e, "tls handshake failed"),
                    Err(_) => tracing::debug!("tls handshake timed out"),
                }
            });
        }
    });
    ReceiverStream::new(ready_rx)
}
