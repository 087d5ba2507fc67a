//! CPU time of benchmark processes, read from `/proc`: on a shared, loaded machine the wall
//! time of a run depends on what else runs, the CPU time much less, so the benchmarks report
//! both.

use std::time::Duration;

use anyhow::Context;

use crate::SluiceProcess;

/// Kernel clock ticks per second in `/proc/<pid>/stat` (USER_HZ, 100 on Linux).
const TICKS_PER_SECOND: u64 = 100;

/// CPU time (user + system) the worker process has used so far.
pub fn worker_cpu(worker: &SluiceProcess) -> anyhow::Result<Duration> {
    let pid = worker.pid().context("the sluice worker is not running")?;
    let path = format!("/proc/{pid}/stat");
    let stat = std::fs::read_to_string(&path).with_context(|| format!("cannot read {path}"))?;
    stat_cpu(&stat, StatFields::Own)
}

/// CPU time (user + system) this process's waited-for children used: the reference programs
/// a benchmark runs to completion.
pub fn children_cpu() -> anyhow::Result<Duration> {
    let stat = std::fs::read_to_string("/proc/self/stat").context("cannot read /proc/self/stat")?;
    stat_cpu(&stat, StatFields::WaitedForChildren)
}

/// Which pair of `/proc/<pid>/stat` time fields to add.
#[derive(Debug, Clone, Copy)]
enum StatFields {
    /// utime + stime.
    Own,
    /// cutime + cstime.
    WaitedForChildren,
}

/// Adds the chosen time fields of a `/proc/<pid>/stat` line. Fields are counted after the
/// parenthesised command name, which may itself hold spaces and parentheses.
fn stat_cpu(stat: &str, which: StatFields) -> anyhow::Result<Duration> {
    let first = match which {
        StatFields::Own => 11,
        StatFields::WaitedForChildren => 13,
    };
    let rest = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<&str> = rest.split_whitespace().collect();
    anyhow::ensure!(
        fields.len() > first + 1,
        "unexpected /proc stat line: {stat}"
    );
    let ticks: u64 = fields[first].parse::<u64>()? + fields[first + 1].parse::<u64>()?;
    Ok(Duration::from_millis(ticks * 1000 / TICKS_PER_SECOND))
}

/// Prints a side's CPU time in total and per row.
pub fn report_cpu(process: &str, cpu: Duration, rows: i64) {
    println!(
        "  {process} CPU (user+system): {:.2} s, {:.1} µs per row",
        cpu.as_secs_f64(),
        cpu.as_secs_f64() * 1e6 / rows as f64
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_fields_are_counted_after_the_command_name() {
        // pid (comm) state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt
        // utime stime cutime cstime …; the command name holds a space and a parenthesis.
        let stat = "42 (a (b) c) S 1 42 42 0 -1 4194560 10 0 0 0 250 50 7 3 20 0 1";
        assert_eq!(
            stat_cpu(stat, StatFields::Own).unwrap(),
            Duration::from_secs(3)
        );
        assert_eq!(
            stat_cpu(stat, StatFields::WaitedForChildren).unwrap(),
            Duration::from_millis(100)
        );
        assert!(stat_cpu("42 (x) S 1", StatFields::Own).is_err());
    }

    #[test]
    fn this_process_has_readable_child_cpu() {
        assert!(children_cpu().is_ok());
    }
}
