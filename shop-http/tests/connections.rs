//! What `serve` does about clients that hold connections, over raw sockets: silent
//! connections, half-sent heads and idle keep-alive connections are closed after the header
//! timeout; a shutdown does not wait on any of them but lets a request in flight finish; the
//! connection cap makes new connections wait; a body that trickles in hits the request
//! timeout.

#![allow(clippy::unwrap_used)] // test code

mod support;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;
use std::time::{Duration, Instant};

use shop_http::{HttpConfig, router, serve};
use shop_store::MemoryStore;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

struct Served {
    addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<std::io::Result<()>>,
}

async fn served(config: HttpConfig) -> Served {
    let state = support::state_over(Arc::new(MemoryStore::new())).await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(serve(listener, router(state, &config), &config, async {
        let _ = stopped.await;
    }));
    Served {
        addr,
        stop: Some(stop),
        task,
    }
}

fn with_header_timeout(secs: u64) -> HttpConfig {
    {
        let mut config = HttpConfig::default();
        config.header_read_timeout = Duration::from_secs(secs);
        config
    }
}

/// Blocks until the server closes `conn` (or `limit` passes); how long that took and what
/// came before the close.
fn wait_for_close(mut conn: TcpStream, limit: Duration) -> (Duration, Vec<u8>) {
    let started = Instant::now();
    conn.set_read_timeout(Some(limit)).unwrap();
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match conn.read(&mut buf) {
            Ok(0) => return (started.elapsed(), got),
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(e) => panic!("still open after {limit:?} ({e}); got {got:?}"),
        }
    }
}

async fn in_thread<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    tokio::task::spawn_blocking(f).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_that_send_no_complete_head_are_closed_after_the_header_timeout() {
    let s = served(with_header_timeout(1)).await;
    let addr = s.addr;
    let cases: [(&str, &[u8]); 3] = [
        ("silent", b""),
        ("half a request line", b"GET /hea"),
        (
            "idle after a request",
            b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n",
        ),
    ];
    for (what, sent) in cases {
        let (took, got) = in_thread(move || {
            let mut conn = TcpStream::connect(addr).unwrap();
            conn.write_all(sent).unwrap();
            wait_for_close(conn, Duration::from_secs(5))
        })
        .await;
        assert!(
            took >= Duration::from_millis(900) && took < Duration::from_secs(3),
            "{what}: closed after {took:?}"
        );
        if what.starts_with("idle") {
            assert!(got.starts_with(b"HTTP/1.1 200"), "{what}: answered first");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_shutdown_does_not_wait_on_idle_connections_but_finishes_requests_in_flight() {
    let mut s = served(with_header_timeout(30)).await;
    let addr = s.addr;
    let mut idle = Vec::new();
    for sent in [
        &b""[..],
        b"GET /hea",
        b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n",
    ] {
        let mut conn = TcpStream::connect(addr).unwrap();
        conn.write_all(sent).unwrap();
        idle.push(conn);
    }
    // A request in flight: its head and half its body are in when the shutdown begins.
    let body =
        br#"{"email":"late@example.com","password":"a long passphrase","display_name":"Late"}"#;
    let (first, rest) = body.split_at(body.len() / 2);
    let mut busy = TcpStream::connect(addr).unwrap();
    write!(
        busy,
        "POST /api/auth/register HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\n\r\n",
        body.len()
    )
    .unwrap();
    busy.write_all(first).unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;

    let began = Instant::now();
    s.stop.take().unwrap().send(()).unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    for conn in idle {
        in_thread(move || wait_for_close(conn, Duration::from_secs(2))).await;
    }
    assert!(
        !s.task.is_finished(),
        "the request in flight holds the shutdown"
    );
    busy.write_all(rest).unwrap();
    let (_, answer) = in_thread(move || wait_for_close(busy, Duration::from_secs(5))).await;
    assert!(
        answer.starts_with(b"HTTP/1.1 201"),
        "{}",
        String::from_utf8_lossy(&answer)
    );
    s.task.await.unwrap().unwrap();
    assert!(
        began.elapsed() < Duration::from_secs(5),
        "the shutdown took {:?}, nowhere near the 30 s header timeout",
        began.elapsed()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn beyond_the_connection_cap_new_connections_wait() {
    let config = {
        let mut config = with_header_timeout(1);
        config.max_connections = 2;
        config
    };
    let s = served(config).await;
    let addr = s.addr;
    let holders: Vec<TcpStream> = (0..2).map(|_| TcpStream::connect(addr).unwrap()).collect();
    tokio::time::sleep(Duration::from_millis(100)).await;
    let (took, got) = in_thread(move || {
        let mut conn = TcpStream::connect(addr).unwrap();
        let started = Instant::now();
        conn.write_all(b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            .unwrap();
        let (_, got) = wait_for_close(conn, Duration::from_secs(5));
        (started.elapsed(), got)
    })
    .await;
    assert!(got.starts_with(b"HTTP/1.1 200"));
    assert!(
        took >= Duration::from_millis(700),
        "served only once a slot freed (the two holders timed out): {took:?}"
    );
    drop(holders);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_that_trickles_in_hits_the_request_timeout() {
    let config = {
        let mut config = HttpConfig::default();
        config.request_timeout = Duration::from_secs(1);
        config
    };
    let s = served(config).await;
    let addr = s.addr;
    let (took, got) = in_thread(move || {
        let mut conn = TcpStream::connect(addr).unwrap();
        conn.write_all(
            b"POST /api/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n\
              Content-Length: 100\r\nConnection: close\r\n\r\n{",
        )
        .unwrap();
        let started = Instant::now();
        let writer = conn.try_clone().unwrap();
        std::thread::spawn(move || {
            let mut writer = writer;
            for _ in 0..30 {
                std::thread::sleep(Duration::from_millis(200));
                if writer.write_all(b" ").is_err() {
                    return;
                }
            }
        });
        let (_, got) = wait_for_close(conn, Duration::from_secs(5));
        (started.elapsed(), got)
    })
    .await;
    let text = String::from_utf8_lossy(&got);
    assert!(text.starts_with("HTTP/1.1 503"), "{text}");
    assert!(text.contains(r#""code":"timeout""#), "{text}");
    assert!(took < Duration::from_secs(3), "{took:?}");
}
