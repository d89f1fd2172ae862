//! CPU time per operation of the servers under test: the user + system time of every server
//! process heap-bench started (all its threads, ended ones included, as `/proc/PID/stat` totals
//! them), read when the measured period starts and when it ends, over the operations completed
//! in it ("CPU us/op"). Nodes heap-bench did not start are never read: their figure is
//! unavailable, with the reason, rather than guessed.

use std::future::Future;
use std::time::Instant;

use crate::driver::LoadPlan;
use crate::driver::Stop;

/// Which processes serve the cluster a measurement runs against.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ServerProcesses {
    /// heap-bench started them: their process ids, every node's.
    Started(Vec<u32>),
    /// heap-bench cannot read them, for this reason (e.g. it attached to running nodes).
    Unknown(String),
}

/// The servers' CPU time over one measured period, or why there is none.
#[derive(Debug, Clone, PartialEq)]
pub enum ServerCpu {
    /// User + system seconds of every server process together.
    Measured {
        cpu_s: f64,
    },
    Unavailable(String),
}

/// Fields of `/proc/PID/stat` after the process name's closing parenthesis: the state (field
/// 3 of proc(5)) is the first, so utime (field 14) and stime (field 15) are at these indexes.
const UTIME_INDEX_AFTER_NAME: usize = 14 - 3;
const STIME_INDEX_AFTER_NAME: usize = 15 - 3;

/// The auxiliary vector's key for the unit of utime and stime (what `sysconf(_SC_CLK_TCK)`
/// returns), and its end marker; from linux/auxvec.h.
const AT_CLKTCK: usize = 17;
const AT_NULL: usize = 0;
/// Clock ticks per second Linux may report (USER_HZ is 100 on most architectures, 1024 on a
/// few); anything else means the auxiliary vector was misread.
const CLOCK_TICKS_PER_S_MAX: u64 = 10_000;

/// utime + stime, in clock ticks, of a `/proc/PID/stat` text. The process name (field 2) is
/// in parentheses and may itself hold spaces and parentheses, so fields are counted from the
/// last `)`.
pub fn parse_stat_cpu_ticks(stat: &str) -> Result<u64, String> {
    let name_end = stat.rfind(')').ok_or("no ')' after the process name: not a /proc/PID/stat text")?;
    let fields: Vec<&str> = stat[name_end + 1..].split_whitespace().collect();
    let field = |index: usize, name: &str| -> Result<u64, String> {
        let text = fields.get(index).ok_or(format!("no {name} field: the stat line is cut short"))?;
        text.parse().map_err(|_| format!("{name} is {text:?}, not a whole number of clock ticks"))
    };
    let utime = field(UTIME_INDEX_AFTER_NAME, "utime")?;
    let stime = field(STIME_INDEX_AFTER_NAME, "stime")?;
    utime.checked_add(stime).ok_or_else(|| "utime + stime overflows".to_string())
}

/// The clock ticks per second in an auxiliary vector (`/proc/self/auxv`: pairs of native
/// words, key then value, ended by `AT_NULL`).
pub fn parse_auxv_clock_ticks(auxv: &[u8]) -> Result<u64, String> {
    const WORD: usize = std::mem::size_of::<usize>();
    let word = |bytes: &[u8]| usize::from_ne_bytes(bytes.try_into().expect("chunks_exact gives WORD bytes"));
    for pair in auxv.chunks_exact(2 * WORD) {
        let (key, value) = (word(&pair[..WORD]), word(&pair[WORD..]));
        if key == AT_NULL {
            break;
        }
        if key == AT_CLKTCK {
            let ticks = value as u64;
            if ticks == 0 || ticks > CLOCK_TICKS_PER_S_MAX {
                return Err(format!("the auxiliary vector gives {ticks} clock ticks per second"));
            }
            return Ok(ticks);
        }
    }
    Err("the auxiliary vector has no AT_CLKTCK".to_string())
}

/// This machine's clock ticks per second, the unit of `/proc/PID/stat`'s CPU times.
fn clock_ticks_per_s() -> Result<u64, String> {
    let auxv =
        std::fs::read("/proc/self/auxv").map_err(|e| format!("cannot read /proc/self/auxv (not Linux?): {e}"))?;
    parse_auxv_clock_ticks(&auxv)
}

/// utime + stime of every process in `pids` now, in clock ticks, in the same order.
fn read_cpu_ticks(pids: &[u32]) -> Result<Vec<u64>, String> {
    pids.iter()
        .map(|pid| {
            let path = format!("/proc/{pid}/stat");
            let stat = std::fs::read_to_string(&path).map_err(|e| format!("cannot read {path} (did it exit?): {e}"))?;
            parse_stat_cpu_ticks(&stat).map_err(|e| format!("{path}: {e}"))
        })
        .collect()
}

/// The clock ticks all processes used between two readings of the same `pids`. A counter
/// that went back means the reading is of another process: an error, not a negative time.
pub fn ticks_used(before: &[u64], after: &[u64]) -> Result<u64, String> {
    if before.len() != after.len() {
        return Err(format!("{} processes read at the start, {} at the end", before.len(), after.len()));
    }
    before.iter().zip(after).try_fold(0u64, |total, (start, end)| {
        let used = end.checked_sub(*start).ok_or(format!("a CPU counter went back from {start} to {end} ticks"))?;
        total.checked_add(used).ok_or_else(|| "the CPU ticks overflow".to_string())
    })
}

/// CPU microseconds per operation; `None` when no operation completed.
pub fn cpu_us_per_op(cpu_s: f64, ops: u64) -> Option<f64> {
    (ops > 0).then(|| cpu_s * 1e6 / ops as f64)
}

/// Runs `load` (a closed loop run with `plan`, started right after this call starts) and reads
/// the servers' CPU time over its measured period: from the warm-up's end to the period's end.
/// The readings are taken by a task of their own at those instants, whatever the load does.
pub async fn during_measured_period<F: Future>(
    servers: &ServerProcesses,
    plan: &LoadPlan,
    load: F,
) -> (F::Output, ServerCpu) {
    use ServerCpu::Unavailable;
    let (pids, duration) = match (servers, plan.stop) {
        (ServerProcesses::Unknown(reason), _) => return (load.await, Unavailable(reason.clone())),
        (ServerProcesses::Started(_), Stop::Ops(_)) => {
            return (load.await, Unavailable("a period of --ops has no end known in advance".into()))
        }
        (ServerProcesses::Started(pids), Stop::After(duration)) => (pids.clone(), duration),
    };
    let ticks_per_s = match clock_ticks_per_s() {
        Ok(ticks) => ticks,
        Err(reason) => return (load.await, Unavailable(reason)),
    };
    let period_start = Instant::now() + plan.warmup;
    let period_end = period_start + duration;
    let reader = tokio::spawn(async move {
        tokio::time::sleep_until(period_start.into()).await;
        let before = read_cpu_ticks(&pids)?;
        tokio::time::sleep_until(period_end.into()).await;
        let after = read_cpu_ticks(&pids)?;
        ticks_used(&before, &after)
    });
    let output = load.await;
    if Instant::now() < period_end {
        reader.abort();
        return (output, Unavailable("the measurement ended before its period did".into()));
    }
    // The reader's last wait ended already: this await is short.
    let cpu = match reader.await {
        Ok(Ok(ticks)) => ServerCpu::Measured { cpu_s: ticks as f64 / ticks_per_s as f64 },
        Ok(Err(reason)) => Unavailable(reason),
        Err(e) => Unavailable(format!("the CPU reader failed: {e}")),
    };
    (output, cpu)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::child_guard::ChildGuard;

    /// A real stat line (proc(5) layout) of a process named "a) (b c" with utime 1234, stime 56.
    const STAT: &str = "4242 (a) (b c) S 1 4242 4242 0 -1 4194560 1500 0 0 0 1234 56 7 8 20 0 12 0 \
                        98765 123456789 2048 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0\n";

    #[test]
    fn utime_and_stime_are_found_after_a_name_with_spaces_and_parentheses() {
        assert_eq!(parse_stat_cpu_ticks(STAT), Ok(1234 + 56), "children's 7 and 8 ticks are not ours");
        let plain = STAT.replace("(a) (b c)", "(heap-server)");
        assert_eq!(parse_stat_cpu_ticks(&plain), Ok(1290));
    }

    #[test]
    fn malformed_stat_lines_are_errors_naming_the_field() {
        assert!(parse_stat_cpu_ticks("4242 heap-server S 1").is_err(), "no parentheses");
        let short = parse_stat_cpu_ticks("4242 (x) S 1 2 3").expect_err("cut short");
        assert!(short.contains("utime"), "{short}");
        let bad = parse_stat_cpu_ticks(&STAT.replace(" 56 ", " lots ")).expect_err("not a number");
        assert!(bad.contains("stime"), "{bad}");
    }

    #[test]
    fn this_process_has_a_readable_cpu_counter() {
        let ticks = read_cpu_ticks(&[std::process::id()]).expect("our own stat");
        assert_eq!(ticks.len(), 1);
        assert!(read_cpu_ticks(&[u32::MAX]).is_err(), "no such process");
    }

    fn auxv(pairs: &[(usize, usize)]) -> Vec<u8> {
        pairs.iter().flat_map(|(key, value)| [key.to_ne_bytes(), value.to_ne_bytes()]).flatten().collect()
    }

    #[test]
    fn the_clock_tick_comes_from_the_auxiliary_vector() {
        assert_eq!(parse_auxv_clock_ticks(&auxv(&[(6, 4096), (AT_CLKTCK, 100), (AT_NULL, 0)])), Ok(100));
        assert!(parse_auxv_clock_ticks(&auxv(&[(6, 4096), (AT_NULL, 0), (AT_CLKTCK, 100)])).is_err(), "after the end");
        assert!(parse_auxv_clock_ticks(&auxv(&[(AT_CLKTCK, 0)])).is_err());
        assert!(parse_auxv_clock_ticks(&[]).is_err());
        let ticks = clock_ticks_per_s().expect("this Linux machine's auxv");
        assert!((1..=CLOCK_TICKS_PER_S_MAX).contains(&ticks), "{ticks}");
    }

    #[test]
    fn the_ticks_used_are_the_sum_of_every_process_delta() {
        assert_eq!(ticks_used(&[100, 2_000, 50], &[130, 2_450, 50]), Ok(30 + 450));
        assert_eq!(ticks_used(&[], &[]), Ok(0));
        assert!(ticks_used(&[100], &[99]).is_err(), "a counter that went back");
        assert!(ticks_used(&[1, 2], &[3]).is_err());
    }

    #[test]
    fn per_op_is_microseconds_over_completed_operations() {
        // 4.5 s of CPU over 9,000 operations: 500 us each.
        let per_op = cpu_us_per_op(4.5, 9_000).expect("operations completed");
        assert!((per_op - 500.0).abs() < 1e-9, "{per_op}");
        assert_eq!(cpu_us_per_op(4.5, 0), None);
    }

    fn plan(warmup_ms: u64, stop: Stop) -> LoadPlan {
        LoadPlan { warmup: Duration::from_millis(warmup_ms), stop, grace: Duration::ZERO, label: "test".into() }
    }

    /// A child process that sleeps `sleep_s`, then does a fixed amount of CPU work (about 0.15 s
    /// here), then sleeps on until killed. Its own CPU time is only that work: a test in this
    /// binary cannot use its own counters, which every test running beside it moves.
    fn worker(sleep_s: &str) -> std::process::Child {
        let script = format!("sleep {sleep_s}; i=0; while [ $i -lt 100000 ]; do i=$((i+1)); done; sleep 60");
        std::process::Command::new("sh").args(["-c", &script]).spawn().expect("sh starts")
    }

    #[tokio::test]
    async fn work_in_the_warmup_is_not_counted_and_work_in_the_period_is() {
        // Warm-up 1.5 s, period 2.5 s: `early` works at once (in the warm-up), `late` after 2 s
        // (in the period), each with seconds of slack for a loaded machine.
        let (early, late) = (worker("0"), worker("2"));
        let (early_pid, late_pid) = (early.id(), late.id());
        // Killed and reaped on every way out of the test.
        let _guards = (ChildGuard::new(early), ChildGuard::new(late));
        let period = plan(1_500, Stop::After(Duration::from_millis(2_500)));
        let (early_pids, late_pids) =
            (ServerProcesses::Started(vec![early_pid]), ServerProcesses::Started(vec![late_pid]));
        let (((), early_cpu), ((), late_cpu)) = tokio::join!(
            during_measured_period(&early_pids, &period, tokio::time::sleep(Duration::from_millis(4_000))),
            during_measured_period(&late_pids, &period, tokio::time::sleep(Duration::from_millis(4_000))),
        );
        let totals = read_cpu_ticks(&[early_pid, late_pid]).expect("both still run");
        let tick_s = 1.0 / clock_ticks_per_s().expect("a Linux clock tick") as f64;
        let (early_total_s, late_total_s) = (totals[0] as f64 * tick_s, totals[1] as f64 * tick_s);
        assert!(early_total_s >= 5.0 * tick_s && late_total_s >= 5.0 * tick_s, "the work is big enough to see");
        let ServerCpu::Measured { cpu_s: early_s } = early_cpu else { panic!("{early_cpu:?}") };
        let ServerCpu::Measured { cpu_s: late_s } = late_cpu else { panic!("{late_cpu:?}") };
        assert!(early_s <= 2.0 * tick_s, "{early_s} s of {early_total_s} s counted from the warm-up");
        assert!(late_s >= late_total_s - 2.0 * tick_s, "{late_s} s of {late_total_s} s counted in the period");
    }

    #[tokio::test]
    async fn unknown_servers_and_unended_periods_are_unavailable_with_the_reason() {
        let attached = ServerProcesses::Unknown("attached to running nodes".into());
        let period = plan(0, Stop::After(Duration::from_millis(10)));
        let ((), cpu) = during_measured_period(&attached, &period, async {}).await;
        assert_eq!(cpu, ServerCpu::Unavailable("attached to running nodes".into()));
        let me = ServerProcesses::Started(vec![std::process::id()]);
        let ((), cpu) = during_measured_period(&me, &plan(0, Stop::Ops(5)), async {}).await;
        assert!(matches!(cpu, ServerCpu::Unavailable(ref r) if r.contains("--ops")), "{cpu:?}");
        let long = plan(0, Stop::After(Duration::from_secs(60)));
        let ((), cpu) = during_measured_period(&me, &long, async {}).await;
        assert!(matches!(cpu, ServerCpu::Unavailable(ref r) if r.contains("ended before")), "{cpu:?}");
    }
}
