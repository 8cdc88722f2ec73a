//! A TCP proxy between activation and card-issuance that can freeze the
//! connections it carries: it stops forwarding without closing them, as a
//! half-open network path does. Connections made after a freeze flow, so a
//! client that notices the silence (HTTP/2 keepalive) and reconnects gets
//! through.

use std::{
    net::SocketAddr,
    sync::{
        Arc, Mutex,
        atomic::{AtomicU64, Ordering},
    },
    time::Instant,
};

use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::{
        TcpListener, TcpStream,
        tcp::{OwnedReadHalf, OwnedWriteHalf},
    },
    sync::watch,
};

/// The proxy, listening on [`Proxy::port`].
pub struct Proxy {
    pub port: u16,
    next_id: Arc<AtomicU64>,
    /// Connections numbered below this are frozen (0: none).
    frozen_below: watch::Sender<u64>,
    accepted: Arc<Mutex<Vec<Instant>>>,
}

impl Proxy {
    /// Listens on a free port of 127.0.0.1 and forwards each connection to
    /// `upstream`.
    pub async fn start(upstream: SocketAddr) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("proxy port");
        let port = listener.local_addr().expect("proxy address").port();
        let (frozen_below, gate) = watch::channel(0);
        let next_id = Arc::new(AtomicU64::new(1));
        let accepted = Arc::new(Mutex::new(Vec::new()));
        let (ids, log) = (next_id.clone(), accepted.clone());
        tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let id = ids.fetch_add(1, Ordering::SeqCst);
                log.lock().expect("proxy log").push(Instant::now());
                let gate = gate.clone();
                tokio::spawn(async move {
                    let Ok(server) = TcpStream::connect(upstream).await else {
                        return;
                    };
                    let _ = (client.set_nodelay(true), server.set_nodelay(true));
                    let (client_read, client_write) = client.into_split();
                    let (server_read, server_write) = server.into_split();
                    tokio::join!(
                        pump(client_read, server_write, id, gate.clone()),
                        pump(server_read, client_write, id, gate),
                    );
                });
            }
        });
        Self {
            port,
            next_id,
            frozen_below,
            accepted,
        }
    }

    pub fn url(&self) -> String {
        format!("https://127.0.0.1:{}", self.port)
    }

    /// Stops forwarding on every connection open now, without closing it.
    pub fn freeze(&self) {
        self.frozen_below
            .send_replace(self.next_id.load(Ordering::SeqCst));
    }

    /// Forwards again what the frozen connections hold.
    pub fn thaw(&self) {
        self.frozen_below.send_replace(0);
    }

    /// When connections were accepted after `since`.
    pub fn accepted_after(&self, since: Instant) -> Vec<Instant> {
        let accepted = self.accepted.lock().expect("proxy log");
        accepted.iter().copied().filter(|t| *t > since).collect()
    }
}

/// Waits while connection `id` is frozen.
async fn open(id: u64, gate: &mut watch::Receiver<u64>) {
    let _ = gate.wait_for(|below| id >= *below || *below == 0).await;
}

/// Copies `from` to `to` while connection `id` is not frozen; what is read
/// while frozen is held until the thaw.
async fn pump(
    mut from: OwnedReadHalf,
    mut to: OwnedWriteHalf,
    id: u64,
    mut gate: watch::Receiver<u64>,
) {
    let mut buffer = vec![0; 16 * 1024];
    loop {
        open(id, &mut gate).await;
        let n = match from.read(&mut buffer).await {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        open(id, &mut gate).await;
        if to.write_all(&buffer[..n]).await.is_err() {
            break;
        }
    }
    let _ = to.shutdown().await;
}
