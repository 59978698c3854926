//! CPU time per thread group and the process's RSS, from /proc (Linux).

use std::fs;
use std::path::Path;

/// Clock ticks per second for /proc's utime/stime (USER_HZ; 100 on every Linux
/// configuration this runs on): only the fallback when schedstat is missing.
const TICKS_PER_SEC: f64 = 100.0;

/// Seconds of CPU used so far by this process's threads whose name starts with one
/// of `prefixes`. Read from each thread's scheduler clock (`/proc/self/task/*/schedstat`,
/// nanoseconds, the clock behind `CLOCK_THREAD_CPUTIME_ID`), so a short run is not
/// rounded to 10 ms ticks; utime + stime in ticks only where the kernel has no schedstat.
pub fn thread_cpu_secs(prefixes: &[&str]) -> f64 {
    let Ok(tasks) = fs::read_dir("/proc/self/task") else {
        return 0.0;
    };
    let mut secs = 0.0;
    for task in tasks.flatten() {
        let dir = task.path();
        let Ok(comm) = fs::read_to_string(dir.join("comm")) else {
            continue;
        };
        let comm = comm.trim_end_matches('\n');
        if !prefixes.iter().any(|p| comm.starts_with(p)) {
            continue;
        }
        secs += on_cpu_ns(&dir)
            .map_or_else(|| ticks(&dir) as f64 / TICKS_PER_SEC, |ns| ns as f64 / 1e9);
    }
    secs
}

/// Nanoseconds the thread has run (schedstat's first field).
fn on_cpu_ns(task: &Path) -> Option<u64> {
    fs::read_to_string(task.join("schedstat"))
        .ok()?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// utime + stime of the thread, in clock ticks.
fn ticks(task: &Path) -> u64 {
    let Ok(stat) = fs::read_to_string(task.join("stat")) else {
        return 0;
    };
    // "tid (comm) state ppid ..." — comm may hold spaces, so split at the last ')'.
    let Some(close) = stat.rfind(')') else {
        return 0;
    };
    let fields: Vec<&str> = stat.get(close + 2..).unwrap_or("").split(' ').collect();
    // After comm: state(0) ... utime(11) stime(12).
    let field = |i: usize| {
        fields
            .get(i)
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0)
    };
    field(11) + field(12)
}

/// Resident set size of this process in bytes.
pub fn rss_bytes() -> u64 {
    fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<u64>().ok())
        })
        .map_or(0, |kb| kb * 1024)
}

/// The machine's 1-minute load average (to judge how noisy a run was).
pub fn load_average() -> f64 {
    fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|s| s.split_whitespace().next().and_then(|v| v.parse().ok()))
        .unwrap_or(0.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_rss_and_this_threads_cpu() {
        assert!(rss_bytes() > 0);
        let name = std::thread::current().name().unwrap_or("").to_string();
        let prefix = name.get(..name.len().min(15)).unwrap_or("").to_string();
        let start = std::time::Instant::now();
        let mut x = 0u64;
        while start.elapsed() < std::time::Duration::from_millis(300) {
            x = x.wrapping_mul(31).wrapping_add(1);
        }
        std::hint::black_box(x);
        let secs = thread_cpu_secs(&[prefix.as_str()]);
        assert!(secs > 0.0, "thread {prefix:?}");
        if Path::new("/proc/self/schedstat").exists() {
            // Nanoseconds, not a whole number of 10 ms ticks.
            assert!((secs * 100.0).fract() != 0.0, "{secs} s looks like ticks");
        }
    }
}
