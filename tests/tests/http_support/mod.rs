//! Shared by the `http_*` tests: an HTTP API server on loopback over the in-memory backend, and
//! a deliberately dumb blocking client that shows the exact bytes on the wire.

#![allow(dead_code, unreachable_pub)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;
use std::time::Duration;

use synod_runtime_smol::http::{Backend, MemoryBackend, Server, ServerConfig, Status};

/// The status the test backend reports: a known leader at 127.0.0.1:8300.
pub fn leader_status() -> Status {
    Status {
        leader: Some("127.0.0.1:8300".to_owned()),
        peers: vec!["127.0.0.1:8300".to_owned()],
        known_leader: true,
        last_contact: Duration::ZERO,
    }
}

/// A running server; stops when dropped.
pub struct TestServer<B> {
    pub addr: SocketAddr,
    pub backend: Arc<B>,
    stop: smol::channel::Sender<()>,
}

impl TestServer<MemoryBackend> {
    pub fn start(config: ServerConfig) -> Self {
        TestServer::with_backend(Arc::new(MemoryBackend::new(leader_status())), config)
    }
}

impl<B: Backend> TestServer<B> {
    pub fn with_backend(backend: Arc<B>, config: ServerConfig) -> Self {
        let (addr_tx, addr_rx) = std::sync::mpsc::channel();
        let (stop, stopped) = smol::channel::bounded::<()>(1);
        let served = Arc::clone(&backend);
        std::thread::spawn(move || {
            smol::block_on(async move {
                let any_port = SocketAddr::from(([127, 0, 0, 1], 0));
                let server = Server::bind(any_port, served, config).await.expect("bind");
                addr_tx
                    .send(server.local_addr().expect("addr"))
                    .expect("report addr");
                smol::future::or(server.run(), async {
                    let _ = stopped.recv().await;
                })
                .await;
            });
        });
        let addr = addr_rx.recv().expect("server thread started");
        TestServer {
            addr,
            backend,
            stop,
        }
    }

    pub fn connect(&self) -> Client {
        let stream = TcpStream::connect(self.addr).expect("connect");
        stream
            .set_read_timeout(Some(Duration::from_secs(20)))
            .expect("timeout");
        Client {
            reader: BufReader::new(stream.try_clone().expect("clone")),
            stream,
        }
    }

    /// One request on a fresh connection.
    pub fn request(&self, method: &str, target: &str, body: &[u8]) -> Reply {
        let mut client = self.connect();
        client.send(method, target, body);
        client.reply()
    }
}

impl<B> Drop for TestServer<B> {
    fn drop(&mut self) {
        let _ = self.stop.try_send(());
    }
}

pub struct Client {
    pub stream: TcpStream,
    reader: BufReader<TcpStream>,
}

#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn text(&self) -> &str {
        std::str::from_utf8(&self.body).expect("utf-8 body")
    }

    pub fn index(&self) -> u64 {
        self.header("X-Consul-Index")
            .expect("X-Consul-Index")
            .parse()
            .expect("numeric index")
    }
}

pub fn request_bytes(method: &str, target: &str, body: &[u8]) -> Vec<u8> {
    let mut out = format!(
        "{method} {target} HTTP/1.1\r\nHost: test\r\nContent-Length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    out.extend_from_slice(body);
    out
}

impl Client {
    pub fn send(&mut self, method: &str, target: &str, body: &[u8]) {
        self.send_raw(&request_bytes(method, target, body));
    }

    pub fn send_raw(&mut self, bytes: &[u8]) {
        self.stream.write_all(bytes).expect("write request");
    }

    pub fn reply(&mut self) -> Reply {
        let mut line = String::new();
        self.reader.read_line(&mut line).expect("status line");
        let status = line
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| panic!("bad status line {line:?}"));
        let mut headers = Vec::new();
        loop {
            line.clear();
            self.reader.read_line(&mut line).expect("header line");
            let field = line.trim_end_matches(['\r', '\n']);
            if field.is_empty() {
                break;
            }
            let (name, value) = field.split_once(": ").expect("header separator");
            headers.push((name.to_owned(), value.to_owned()));
        }
        let length: usize = headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case("content-length"))
            .map(|(_, v)| v.parse().expect("length"))
            .unwrap_or(0);
        let mut body = vec![0; length];
        self.reader.read_exact(&mut body).expect("body");
        Reply {
            status,
            headers,
            body,
        }
    }

    /// Whether the server closed the connection (end-of-stream) within the read timeout.
    pub fn closed_by_server(&mut self) -> bool {
        let mut byte = [0u8; 1];
        matches!(self.reader.read(&mut byte), Ok(0))
    }
}
