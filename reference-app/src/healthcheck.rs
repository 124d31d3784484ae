//! `reference-app healthcheck`: exit 0 when `GET /health` on this host's `PORT` answers 200.
//! For container health checks in images without a shell or curl.

use std::io::{Read as _, Write as _};
use std::process::ExitCode;

pub(crate) fn run() -> ExitCode {
    let port = std::env::var("PORT").unwrap_or_else(|_| "8080".into());
    let root = std::env::var("ROOT_PATH").unwrap_or_default();
    let timeout = std::time::Duration::from_secs(2);
    let Ok(addr) = format!("127.0.0.1:{port}").parse::<std::net::SocketAddr>() else {
        return ExitCode::FAILURE;
    };
    let Ok(mut conn) = std::net::TcpStream::connect_timeout(&addr, timeout) else {
        return ExitCode::FAILURE;
    };
    let _ = conn.set_read_timeout(Some(timeout));
    let request = format!(
        "GET {}/health HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
        root.trim_end_matches('/')
    );
    let mut head = [0u8; 12];
    if conn.write_all(request.as_bytes()).is_err() || conn.read_exact(&mut head).is_err() {
        return ExitCode::FAILURE;
    }
    if head.starts_with(b"HTTP/1.1 200") {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
