//! Where the CPU goes, read from /proc, and what machine this is.

use crate::services::Services;

/// CPU seconds used so far by each component: this load generator, each
/// service process and all Postgres processes together — those running and
/// those that ended (pgbench's backends end with it, autovacuum workers
/// after each table): the postmaster, which waited for them, holds their
/// time as its children's.
pub fn cpu_seconds(services: &Services) -> Vec<(String, f64)> {
    fn of(stat: &str) -> Option<(String, f64, f64)> {
        let (comm, rest) = stat.rsplit_once(") ")?;
        let name = comm.split_once(" (")?.1.to_owned();
        let fields: Vec<&str> = rest.split_whitespace().collect();
        let tick = |i: usize| fields.get(i).and_then(|f| f.parse::<f64>().ok());
        // utime and stime, fields 14 and 15 of /proc/PID/stat, and the
        // children's waited for, cutime and cstime (16 and 17), in clock
        // ticks (100/s).
        let own = tick(11)? + tick(12)?;
        let children = tick(13)? + tick(14)?;
        Some((name, own / 100.0, children / 100.0))
    }
    let read = |pid: &str| {
        std::fs::read_to_string(format!("/proc/{pid}/stat"))
            .ok()
            .and_then(|s| of(&s))
    };
    let mut out = vec![(
        "load generator".to_owned(),
        read("self").map_or(0.0, |(_, s, _)| s),
    )];
    for instance in &services.instances {
        out.push((
            instance.name.to_owned(),
            instance
                .pid()
                .and_then(|pid| read(&pid.to_string()))
                .map_or(0.0, |(_, s, _)| s),
        ));
    }
    let postgres: f64 = std::fs::read_dir("/proc")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| read(&e.file_name().to_string_lossy()))
        .filter(|(name, _, _)| name == "postgres")
        .map(|(_, own, children)| own + children)
        .sum();
    out.push(("postgres".to_owned(), postgres));
    out
}

/// CPU milliseconds per call spent in each component between two snapshots.
pub fn cpu_per_call(before: &[(String, f64)], after: &[(String, f64)], calls: usize) -> String {
    before
        .iter()
        .zip(after)
        .map(|((name, b), (_, a))| (name, (a - b) * 1000.0 / calls.max(1) as f64))
        .filter(|(_, ms)| *ms >= 0.005)
        .map(|(name, ms)| format!("{name} {ms:.3}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The CPU, its cores and the memory, for the report.
pub fn describe() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .map(|l| l.split(':').nth(1).unwrap_or("").trim().to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(0);
    let memory = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|s| {
            s.lines().next().map(|l| {
                l.split_whitespace()
                    .nth(1)
                    .unwrap_or("0")
                    .parse::<u64>()
                    .unwrap_or(0)
                    / 1024
                    / 1024
            })
        })
        .unwrap_or(0);
    format!("{cores} cores ({cpu}), {memory} GiB memory")
}
