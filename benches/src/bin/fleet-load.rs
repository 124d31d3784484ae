//! Drives `GET path` against servers that are already running (the fleet behind nginx, or
//! one replica directly) and prints one table row per target: requests/s, p50, p99, and the
//! median of several runs. The generator is the load harness's own (`shop_benches::load`).
//!
//! Usage (see `benches/fleet.sh`, which starts the fleets and pins the generator):
//! `fleet-load --path PATH [--connections N] [--seconds S] [--runs R] NAME=HOST:PORT ...`

#![allow(clippy::print_stdout, clippy::print_stderr)] // a report is what it is for

use std::net::SocketAddr;
use std::time::Duration;

use shop_benches::load::{Budget, LoadError, Scenario, drive};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), LoadError> {
    let mut path = String::new();
    let (mut connections, mut seconds, mut runs) = (32usize, 10u64, 3usize);
    let mut targets: Vec<(String, SocketAddr)> = Vec::new();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = || args.next().ok_or_else(|| format!("{arg} needs a value"));
        match arg.as_str() {
            "--path" => path = value()?,
            "--connections" => connections = value()?.parse()?,
            "--seconds" => seconds = value()?.parse()?,
            "--runs" => runs = value()?.parse()?,
            target => {
                let (name, addr) = target
                    .split_once('=')
                    .ok_or_else(|| format!("expected NAME=HOST:PORT, got {target}"))?;
                targets.push((name.to_owned(), addr.parse()?));
            }
        }
    }
    if path.is_empty() || targets.is_empty() {
        return Err("usage: fleet-load --path PATH [--connections N] [--seconds S] [--runs R] NAME=HOST:PORT ...".into());
    }
    let scenario = Scenario::Get(path.clone());
    eprintln!("GET {path}: {connections} connections, {seconds} s a run, {runs} runs a target");
    println!(
        "| target | requests/s (median of {runs}) | each run | p50 | p99 |\n|---|---:|---|---:|---:|"
    );
    for (name, addr) in targets {
        let mut outcomes = Vec::new();
        for _ in 0..runs {
            let budget = Budget::Time(Duration::from_secs(seconds));
            outcomes.push(drive(addr, connections, budget, &scenario).await?);
        }
        outcomes.sort_by(|a, b| a.rate().total_cmp(&b.rate()));
        let median = &outcomes[outcomes.len() / 2];
        let each: Vec<String> = outcomes
            .iter()
            .map(|o| format!("{:.0}", o.rate()))
            .collect();
        println!(
            "| {name} | {:.0} | {} | {:.2} ms | {:.2} ms |",
            median.rate(),
            each.join(", "),
            median.percentile(50.0).as_secs_f64() * 1e3,
            median.percentile(99.0).as_secs_f64() * 1e3,
        );
    }
    Ok(())
}
