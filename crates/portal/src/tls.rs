//! HTTPS: the portal's certificate (from the project's development PKI,
//! `socsec certs`), handshakes run concurrently with a timeout, and the
//! connections handed to axum with their browser's address.

use std::{io::Cursor, net::SocketAddr, sync::Arc, time::Duration};

use tokio::{net::TcpListener, net::TcpStream, sync::mpsc};
use tokio_rustls::{
    TlsAcceptor,
    rustls::{
        ServerConfig,
        pki_types::{CertificateDer, PrivateKeyDer, pem::PemObject},
    },
    server::TlsStream,
};

use crate::PortalConfig;

const HANDSHAKE: Duration = Duration::from_secs(10);

pub fn server_config(config: &PortalConfig) -> Result<Arc<ServerConfig>, String> {
    let read = |path: &std::path::Path| {
        std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))
    };
    let certs = CertificateDer::pem_reader_iter(&mut Cursor::new(read(&config.tls_cert_file)?))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("tls_cert_file: {e}"))?;
    let key = PrivateKeyDer::from_pem_reader(&mut Cursor::new(read(&config.tls_key_file)?))
        .map_err(|e| format!("tls_key_file: {e}"))?;
    let mut server = ServerConfig::builder()
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| format!("certificate and key: {e}"))?;
    server.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(server))
}

/// TLS connections on a TCP listener, as axum's `serve` takes them.
pub struct TlsListener {
    ready: mpsc::Receiver<(TlsStream<TcpStream>, SocketAddr)>,
    local: SocketAddr,
}

impl TlsListener {
    pub fn new(tcp: TcpListener, config: Arc<ServerConfig>) -> Self {
        let local = tcp.local_addr().expect("a bound listener has an address");
        let (tx, ready) = mpsc::channel(64);
        let acceptor = TlsAcceptor::from(config);
        tokio::spawn(async move {
            loop {
                let Ok((stream, peer)) = tcp.accept().await else {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                };
                if tx.is_closed() {
                    return;
                }
                let acceptor = acceptor.clone();
                let ready = tx.clone();
                tokio::spawn(async move {
                    if let Ok(Ok(tls)) =
                        tokio::time::timeout(HANDSHAKE, acceptor.accept(stream)).await
                    {
                        let _ = ready.send((tls, peer)).await;
                    }
                });
            }
        });
        Self { ready, local }
    }
}

impl axum::serve::Listener for TlsListener {
    type Io = TlsStream<TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        match self.ready.recv().await {
            Some(connection) => connection,
            None => std::future::pending().await,
        }
    }

    fn local_addr(&self) -> std::io::Result<Self::Addr> {
        Ok(self.local)
    }
}

/// The browser at the other end of a connection (its TCP peer), as handlers
/// read it (`ConnectInfo<Browser>`).
#[derive(Clone, Copy, Debug)]
pub struct Browser(pub SocketAddr);

impl axum::extract::connect_info::Connected<axum::serve::IncomingStream<'_, TlsListener>>
    for Browser
{
    fn connect_info(stream: axum::serve::IncomingStream<'_, TlsListener>) -> Self {
        Self(*stream.remote_addr())
    }
}
