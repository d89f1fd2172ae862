//! A process's memory as Linux reports it in `/proc/PID/status`: `VmRSS` (resident now), split
//! into `RssAnon` (heap and stacks) and `RssFile` (mapped files), and `VmHWM` (the highest
//! resident since it started), all given in kB; and the machine's load from `/proc/loadavg`,
//! which says how much the figures were shared with other work.

use anyhow::Context;
use serde::Serialize;

/// One reading of a process's memory, in bytes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct ProcMemory {
    pub rss_bytes: u64,
    pub rss_anon_bytes: u64,
    pub rss_file_bytes: u64,
    pub hwm_bytes: u64,
}

/// The value of `field` (e.g. `VmRSS`) in a status text, converted from kB to bytes.
fn field_bytes(status: &str, field: &str) -> anyhow::Result<u64> {
    let line = status
        .lines()
        .find_map(|line| line.strip_prefix(field).and_then(|rest| rest.strip_prefix(':')))
        .with_context(|| format!("no {field} line (is this a Linux /proc/PID/status of a live process?)"))?;
    let mut words = line.split_whitespace();
    let number: u64 = words
        .next()
        .with_context(|| format!("{field} has no value"))?
        .parse()
        .with_context(|| format!("{field} is not a whole number"))?;
    match words.next() {
        Some("kB") => number.checked_mul(1024).with_context(|| format!("{field} overflows")),
        unit => anyhow::bail!("{field} is in {unit:?}, expected kB"),
    }
}

/// `VmRSS` and `VmHWM` of a `/proc/PID/status` text.
pub fn parse_status(status: &str) -> anyhow::Result<ProcMemory> {
    Ok(ProcMemory {
        rss_bytes: field_bytes(status, "VmRSS")?,
        rss_anon_bytes: field_bytes(status, "RssAnon")?,
        rss_file_bytes: field_bytes(status, "RssFile")?,
        hwm_bytes: field_bytes(status, "VmHWM")?,
    })
}

/// The first figure of a `/proc/loadavg` text: runnable tasks averaged over the last minute.
pub fn parse_load_average(text: &str) -> anyhow::Result<f64> {
    let first = text.split_whitespace().next().context("/proc/loadavg is empty")?;
    first.parse().with_context(|| format!("/proc/loadavg starts with {first:?}, not a number"))
}

/// The machine's one-minute load average now, or 0 where /proc/loadavg cannot be read.
pub fn load_average_1m() -> f64 {
    std::fs::read_to_string("/proc/loadavg").ok().and_then(|text| parse_load_average(&text).ok()).unwrap_or(0.0)
}

/// Reads process `pid`'s memory now.
pub fn read(pid: u32) -> anyhow::Result<ProcMemory> {
    let path = format!("/proc/{pid}/status");
    let text = std::fs::read_to_string(&path).with_context(|| format!("cannot read {path} (did the node exit?)"))?;
    parse_status(&text).with_context(|| format!("cannot parse {path}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    const STATUS: &str = "Name:\theap-server\nVmPeak:\t 1000000 kB\nVmHWM:\t   52340 kB\nVmRSS:\t   41000 kB\n\
                          RssAnon:\t   30000 kB\nRssFile:\t   11000 kB\nThreads:\t12\n";

    #[test]
    fn rss_and_high_water_mark_are_read_in_bytes() {
        let memory = parse_status(STATUS).expect("parses");
        assert_eq!(memory.rss_bytes, 41_000 * 1024);
        assert_eq!(memory.hwm_bytes, 52_340 * 1024);
        assert_eq!((memory.rss_anon_bytes, memory.rss_file_bytes), (30_000 * 1024, 11_000 * 1024));
    }

    #[test]
    fn the_load_average_is_the_first_figure() {
        assert_eq!(parse_load_average("8.47 7.23 5.66 3/512 11192\n").expect("parses"), 8.47);
        assert!(parse_load_average("").is_err());
        assert!(parse_load_average("high 1 1").is_err());
    }

    #[test]
    fn missing_or_malformed_fields_are_errors_naming_the_field() {
        let without_rss = STATUS.replace("VmRSS", "VmXXX");
        let error = parse_status(&without_rss).expect_err("no VmRSS");
        assert!(error.to_string().contains("VmRSS"), "{error}");
        let rest = "RssAnon:\t1 kB\nRssFile:\t1 kB\nVmHWM:\t1 kB\n";
        assert!(parse_status(&format!("VmRSS:\t2 kB\n{rest}")).is_ok());
        assert!(parse_status(&format!("VmRSS:\t12 MB\n{rest}")).is_err(), "only kB is understood");
        assert!(parse_status(&format!("VmRSS:\tlots kB\n{rest}")).is_err());
        // A field whose name merely starts like another's is not taken for it.
        assert!(parse_status(&format!("VmRSSx:\t1 kB\n{rest}")).is_err());
    }

    #[test]
    fn this_process_can_be_read() {
        let memory = read(std::process::id()).expect("our own status");
        assert!(memory.rss_bytes > 0);
        assert!(memory.hwm_bytes >= memory.rss_bytes);
    }
}
