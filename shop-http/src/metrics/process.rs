//! The standard `process_*` metrics (resident and virtual memory, CPU seconds, open and
//! maximum file descriptors, start time), read from `/proc/self` at each scrape. Linux only:
//! elsewhere the collector writes nothing.

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric};
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::registry::Unit;

/// Collects this process's resource use at each scrape.
#[derive(Debug, Default)]
pub(crate) struct ProcessCollector;

/// One scrape's readings; `None` where `/proc` could not say.
#[derive(Debug, Default)]
struct Readings {
    resident_bytes: Option<u64>,
    virtual_bytes: Option<u64>,
    cpu_seconds: Option<f64>,
    open_fds: Option<u64>,
    max_fds: Option<u64>,
    start_time_seconds: Option<f64>,
}

#[cfg(target_os = "linux")]
fn read() -> Readings {
    use procfs::process::{LimitValue, Process};
    use procfs::{CurrentSI, WithCurrentSystemInfo};
    let Ok(me) = Process::myself() else {
        return Readings::default();
    };
    let mut r = Readings::default();
    if let Ok(stat) = me.stat() {
        let ticks = procfs::ticks_per_second() as f64;
        r.resident_bytes = Some(stat.rss_bytes().get());
        r.virtual_bytes = Some(stat.vsize);
        r.cpu_seconds = Some((stat.utime + stat.stime) as f64 / ticks);
        if let Ok(kernel) = procfs::KernelStats::current() {
            r.start_time_seconds = Some(kernel.btime as f64 + stat.starttime as f64 / ticks);
        }
    }
    r.open_fds = me.fd_count().ok().map(|n| n as u64);
    r.max_fds = me
        .limits()
        .ok()
        .and_then(|l| match l.max_open_files.soft_limit {
            LimitValue::Value(n) => Some(n),
            LimitValue::Unlimited => None,
        });
    r
}

#[cfg(not(target_os = "linux"))]
fn read() -> Readings {
    Readings::default()
}

fn gauge(
    encoder: &mut DescriptorEncoder,
    name: &str,
    help: &str,
    unit: Option<&Unit>,
    value: Option<f64>,
) -> Result<(), std::fmt::Error> {
    let Some(value) = value else { return Ok(()) };
    let metric = ConstGauge::new(value);
    metric.encode(encoder.encode_descriptor(name, help, unit, metric.metric_type())?)
}

impl Collector for ProcessCollector {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let r = read();
        if let Some(cpu) = r.cpu_seconds {
            let metric = ConstCounter::new(cpu);
            metric.encode(encoder.encode_descriptor(
                "process_cpu",
                "User and system CPU time spent",
                Some(&Unit::Seconds),
                metric.metric_type(),
            )?)?;
        }
        #[allow(clippy::cast_precision_loss)] // byte and descriptor counts far below 2^52
        {
            gauge(
                &mut encoder,
                "process_resident_memory",
                "Resident memory size",
                Some(&Unit::Bytes),
                r.resident_bytes.map(|v| v as f64),
            )?;
            gauge(
                &mut encoder,
                "process_virtual_memory",
                "Virtual memory size",
                Some(&Unit::Bytes),
                r.virtual_bytes.map(|v| v as f64),
            )?;
            gauge(
                &mut encoder,
                "process_open_fds",
                "Open file descriptors",
                None,
                r.open_fds.map(|v| v as f64),
            )?;
            gauge(
                &mut encoder,
                "process_max_fds",
                "Maximum number of open file descriptors",
                None,
                r.max_fds.map(|v| v as f64),
            )?;
        }
        gauge(
            &mut encoder,
            "process_start_time",
            "Start time of the process since the Unix epoch",
            Some(&Unit::Seconds),
            r.start_time_seconds,
        )
    }
}
