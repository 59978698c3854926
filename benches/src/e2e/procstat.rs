//! CPU time per thread group and the process's RSS, from /proc (Linux).

use std::fs;

/// Clock ticks per second for /proc's utime/stime (USER_HZ; 100 on every Linux
/// configuration this runs on).
const TICKS_PER_SEC: f64 = 100.0;

/// Seconds of CPU (user + system) used so far by this process's threads whose name
/// starts with one of `prefixes`.
pub fn thread_cpu_secs(prefixes: &[&str]) -> f64 {
    let Ok(tasks) = fs::read_dir("/proc/self/task") else {
        return 0.0;
    };
    let mut ticks = 0u64;
    for task in tasks.flatten() {
        let Ok(stat) = fs::read_to_string(task.path().join("stat")) else {
            continue;
        };
        // "tid (comm) state ppid ..." — comm may hold spaces, so split at the last ')'.
        let (Some(open), Some(close)) = (stat.find('('), stat.rfind(')')) else {
            continue;
        };
        let comm = stat.get(open + 1..close).unwrap_or("");
        if !prefixes.iter().any(|p| comm.starts_with(p)) {
            continue;
        }
        let fields: Vec<&str> = stat.get(close + 2..).unwrap_or("").split(' ').collect();
        // After comm: state(0) ... utime(11) stime(12).
        let utime = fields
            .get(11)
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0);
        let stime = fields
            .get(12)
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0);
        ticks += utime + stime;
    }
    ticks as f64 / TICKS_PER_SEC
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
        assert!(
            thread_cpu_secs(&[prefix.as_str()]) > 0.0,
            "thread {prefix:?}"
        );
    }
}
