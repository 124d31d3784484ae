//! Drives the reference app and the FastAPI peer (`benches/peer`) with the same load and
//! prints, per scenario, both rates and latencies and the ratio ours / peer.
//!
//! Usage (see `benches/peer.sh`, which starts both on MariaDB, pinned alike):
//! `peer-compare --ours ADDR --peer ADDR --admin-password P [--connections N] [--seconds S]`.
//! Both servers are prepared through their APIs alone (admin sign-in, one product, one user
//! per connection), then each scenario runs on ours, then on the peer.

#![allow(clippy::print_stdout, clippy::print_stderr)] // a report is what it is for

use std::net::SocketAddr;
use std::time::Duration;

use shop_benches::load::{Budget, LoadError, Outcome, Scenario, drive, prepare, wait_ready};

struct Args {
    ours: SocketAddr,
    peer: SocketAddr,
    admin_password: String,
    connections: usize,
    seconds: u64,
}

fn args() -> Result<Args, LoadError> {
    let (mut ours, mut peer, mut admin_password) = (None, None, None);
    let (mut connections, mut seconds) = (32, 10);
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().ok_or_else(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "--ours" => ours = Some(value()?.parse()?),
            "--peer" => peer = Some(value()?.parse()?),
            "--admin-password" => admin_password = Some(value()?),
            "--connections" => connections = value()?.parse()?,
            "--seconds" => seconds = value()?.parse()?,
            other => return Err(format!("unknown argument {other}").into()),
        }
    }
    Ok(Args {
        ours: ours.ok_or("--ours is required")?,
        peer: peer.ok_or("--peer is required")?,
        admin_password: admin_password.ok_or("--admin-password is required")?,
        connections,
        seconds,
    })
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn main() -> Result<(), LoadError> {
    let a = args()?;
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?
        .block_on(run(a))
}

async fn run(a: Args) -> Result<(), LoadError> {
    wait_ready(a.ours, "/ready").await?;
    wait_ready(a.peer, "/api/products?limit=1").await?;
    let c = a.connections;
    let ours = prepare(a.ours, &a.admin_password, c).await?;
    let peer = prepare(a.peer, &a.admin_password, c).await?;
    let window = Budget::Time(Duration::from_secs(a.seconds));
    eprintln!("{c} connections, {} s per scenario and server", a.seconds);

    let scenarios = |p: &shop_benches::load::Prepared| {
        [
            (
                "product by id",
                Scenario::Get(format!("/api/products/{}", p.product_id)),
            ),
            (
                "search (q=mug)",
                Scenario::Get("/api/products?q=mug&limit=20".into()),
            ),
            (
                "add to cart + checkout (per operation)",
                Scenario::Checkout {
                    product_id: p.product_id.clone(),
                    bearers: p.bearers.clone(),
                },
            ),
        ]
    };
    println!(
        "| scenario | ours ops/s | ours p50 | ours p99 | peer ops/s | peer p50 | peer p99 | ours / peer |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|");
    for ((name, mine), (_, theirs)) in scenarios(&ours).into_iter().zip(scenarios(&peer)) {
        let o: Outcome = drive(a.ours, c, window, &mine).await?;
        let p: Outcome = drive(a.peer, c, window, &theirs).await?;
        println!(
            "| {name} | {:.0} | {:.2} ms | {:.2} ms | {:.0} | {:.2} ms | {:.2} ms | {:.1}× |",
            o.rate(),
            ms(o.percentile(50.0)),
            ms(o.percentile(99.0)),
            p.rate(),
            ms(p.percentile(50.0)),
            ms(p.percentile(99.0)),
            o.rate() / p.rate(),
        );
    }
    Ok(())
}
