//! Drives the bare hyper baseline and the reference app (memory store) with the same load
//! generator and prints one table: requests/s, p50, p99 and the ratio to the baseline for
//! hello (baseline), product by id, product search and checkout; then the app's resident
//! memory at idle, after loading 100 000 products and after 100 000 checkouts.
//!
//! Usage (see `benches/load.sh`, which builds in release and pins cores):
//! `load-harness --app PATH --hello PATH [--connections N] [--seconds S] [--server-cpu LIST]
//! [--threads N] [--rust-log FILTER]` — `--server-cpu` is a `taskset` CPU list for both
//! servers (`1`, `0-3`); `--threads` the generator's worker threads (default: the CPUs it may
//! run on); `--rust-log` the app's `RUST_LOG`, `warn` by default (no access log); `info` is
//! the production default, one JSON access-log line per request (to /dev/null here).

#![allow(clippy::print_stdout, clippy::print_stderr)] // a report is what it is for

use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use shop_benches::load::{
    Budget, LoadError, Outcome, Prepared, Scenario, drive, prepare, wait_ready,
};

const ADMIN_PASSWORD: &str = "load harness admin passphrase";

struct Args {
    app: String,
    hello: String,
    connections: usize,
    seconds: u64,
    server_cpu: Option<String>,
    threads: usize,
    products: u64,
    checkouts: u64,
    rust_log: String,
}

fn args() -> Result<Args, LoadError> {
    let mut a = Args {
        app: "target/release/reference-app".into(),
        hello: "target/release/hello-baseline".into(),
        connections: 32,
        seconds: 10,
        server_cpu: None,
        threads: std::thread::available_parallelism().map_or(1, usize::from),
        products: 100_000,
        checkouts: 100_000,
        rust_log: "warn".into(),
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().ok_or_else(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "--app" => a.app = value()?,
            "--hello" => a.hello = value()?,
            "--connections" => a.connections = value()?.parse()?,
            "--seconds" => a.seconds = value()?.parse()?,
            "--server-cpu" => a.server_cpu = Some(value()?),
            "--threads" => a.threads = value()?.parse()?,
            "--products" => a.products = value()?.parse()?,
            "--checkouts" => a.checkouts = value()?.parse()?,
            "--rust-log" => a.rust_log = value()?,
            other => return Err(format!("unknown argument {other}").into()),
        }
    }
    Ok(a)
}

fn free_port() -> Result<u16, LoadError> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

/// A server child process, killed on drop.
struct Server {
    child: Child,
    addr: SocketAddr,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    fn start(binary: &str, cpu: Option<&str>, env: &[(&str, &str)]) -> Result<Self, LoadError> {
        let port = free_port()?;
        let mut cmd = match cpu {
            // taskset execs the binary, so the child's PID is the server's.
            Some(cpu) => {
                let mut c = Command::new("taskset");
                c.args(["-c", cpu, binary]);
                c
            }
            None => Command::new(binary),
        };
        // The operations listener on any free port: nothing here scrapes it.
        cmd.env("PORT", port.to_string())
            .env("SHOP_OPS_PORT", "0")
            .envs(env.iter().copied())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        let child = cmd.spawn()?;
        Ok(Self {
            child,
            addr: SocketAddr::from(([127, 0, 0, 1], port)),
        })
    }

    async fn wait(&self, path: &str) -> Result<(), LoadError> {
        wait_ready(self.addr, path).await
    }

    /// (current, peak) resident set size in MiB, from /proc.
    fn rss_mib(&self) -> (f64, f64) {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .unwrap_or_default();
        let field = |name: &str| {
            status
                .lines()
                .find_map(|l| l.strip_prefix(name))
                .and_then(|v| v.split_whitespace().next())
                .and_then(|kib| kib.parse::<f64>().ok())
                .map_or(f64::NAN, |kib| kib / 1024.0)
        };
        (field("VmRSS:"), field("VmHWM:"))
    }
}

struct Row {
    name: &'static str,
    outcome: Outcome,
}

fn print_table(rows: &[Row]) {
    let baseline = rows.first().map_or(f64::NAN, |r| r.outcome.rate());
    println!();
    println!(
        "| scenario | requests/s | p50 | p99 | ratio to baseline |\n|---|---:|---:|---:|---:|"
    );
    for r in rows {
        println!(
            "| {} | {:.0} | {:.2} ms | {:.2} ms | {:.2} |",
            r.name,
            r.outcome.rate(),
            r.outcome.percentile(50.0).as_secs_f64() * 1e3,
            r.outcome.percentile(99.0).as_secs_f64() * 1e3,
            r.outcome.rate() / baseline,
        );
    }
}

fn main() -> Result<(), LoadError> {
    let a = args()?;
    // Several generator threads: one thread saturates before a server on several cores does.
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(a.threads.max(1))
        .enable_all()
        .build()?
        .block_on(run(a))
}

async fn run(a: Args) -> Result<(), LoadError> {
    let cpu = a.server_cpu.as_deref();
    let window = Budget::Time(Duration::from_secs(a.seconds));
    let c = a.connections;
    let mut rows = Vec::new();
    eprintln!(
        "{c} connections, {} s per scenario, server CPUs {cpu:?}, {} generator threads",
        a.seconds, a.threads
    );

    {
        let hello = Server::start(&a.hello, cpu, &[])?;
        hello.wait("/").await?;
        let outcome = drive(hello.addr, c, window, &Scenario::Get("/".into())).await?;
        rows.push(Row {
            name: "hello (bare hyper baseline)",
            outcome,
        });
    }

    let app = Server::start(
        &a.app,
        cpu,
        &[
            ("SHOP_ADMIN_PASSWORD", ADMIN_PASSWORD),
            (
                "JWT_SECRET_KEY",
                "load harness secret, thirty-two bytes or more",
            ),
            ("RUST_LOG", a.rust_log.as_str()),
            // As the container image sets it (deploy/Dockerfile): return freed memory at once.
            ("MIMALLOC_PURGE_DELAY", "0"),
        ],
    )?;
    app.wait("/ready").await?;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let idle = app.rss_mib();

    let Prepared {
        product_id,
        bearers,
        admin,
    } = prepare(app.addr, ADMIN_PASSWORD, c).await?;

    let by_id = Scenario::Get(format!("/api/products/{product_id}"));
    rows.push(Row {
        name: "GET /api/products/{id}",
        outcome: drive(app.addr, c, window, &by_id).await?,
    });
    let search = Scenario::Get("/api/products?q=mug&limit=20".into());
    rows.push(Row {
        name: "GET /api/products?q=mug",
        outcome: drive(app.addr, c, window, &search).await?,
    });
    let checkout = Scenario::Checkout {
        product_id,
        bearers,
    };
    rows.push(Row {
        name: "checkout (fresh cart + key; timed: POST /api/checkout)",
        outcome: drive(app.addr, c, window, &checkout).await?,
    });
    print_table(&rows);

    let create = Scenario::CreateProduct { bearer: admin };
    let loaded = drive(app.addr, c, Budget::Count(a.products), &create).await?;
    let after_products = app.rss_mib();
    // The same search with the catalog 100 000 products larger (none of them a mug).
    let search_large = drive(app.addr, c, window, &search).await?;
    let bought = drive(app.addr, c, Budget::Count(a.checkouts), &checkout).await?;
    let after_checkouts = app.rss_mib();
    println!();
    println!("| reference app memory | RSS | peak RSS |\n|---|---:|---:|");
    println!(
        "| idle after start-up (36 demo products) | {:.1} MiB | {:.1} MiB |",
        idle.0, idle.1
    );
    println!(
        "| after {} more products ({:.0}/s) | {:.1} MiB | {:.1} MiB |",
        loaded.completed,
        loaded.rate(),
        after_products.0,
        after_products.1
    );
    println!(
        "| after {} checkouts ({:.0}/s) | {:.1} MiB | {:.1} MiB |",
        bought.completed,
        bought.rate(),
        after_checkouts.0,
        after_checkouts.1
    );
    println!();
    println!(
        "| search with {} more products | requests/s | p50 | p99 |\n|---|---:|---:|---:|",
        loaded.completed
    );
    println!(
        "| GET /api/products?q=mug | {:.0} | {:.2} ms | {:.2} ms |",
        search_large.rate(),
        search_large.percentile(50.0).as_secs_f64() * 1e3,
        search_large.percentile(99.0).as_secs_f64() * 1e3,
    );
    Ok(())
}
