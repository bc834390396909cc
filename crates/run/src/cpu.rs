//! Where the process's CPU time goes: each thread's time on a CPU, grouped by
//! what the thread does (its name), in cores (CPU seconds per second of wall time).
//!
//! Read from Linux's per-thread scheduler statistics (`/proc/self/task/*/schedstat`:
//! nanoseconds on a CPU) once per report, so measuring costs the workers nothing.
//! Elsewhere there is no split ([`CpuClock::sample`] returns `None`).

use std::collections::HashMap;
use std::time::Duration;

/// What a thread does, from its name.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Role {
    /// Self-play workers (`az-selfplay-*`): search, the game's rules, encoding.
    SelfPlay,
    /// The inference server's threads (`az-infer-*`): batching, channels, and
    /// a GPU network's forward passes (launching work, reading results back).
    Inference,
    /// The inference server's math pool (`az-net-*`): a CPU network's forward passes.
    Network,
    /// The main thread: training steps, taking in games, reports, checkpoints.
    Trainer,
    /// The evaluation thread (`az-eval`): evaluation games and mistake rates.
    Evaluation,
    /// The shared math threads (`az-pool-*`, rayon's): the parallel parts of
    /// training steps and of evaluation's forward passes.
    Pool,
    /// Anything else (signal handling, a transport's runtime).
    Other,
}

impl Role {
    /// Every role, in the order reports list them.
    pub const ALL: [Role; 7] = [
        Role::SelfPlay,
        Role::Inference,
        Role::Network,
        Role::Trainer,
        Role::Evaluation,
        Role::Pool,
        Role::Other,
    ];

    /// Name in TensorBoard tags (`cpu/<name>`).
    pub fn name(self) -> &'static str {
        match self {
            Role::SelfPlay => "selfplay",
            Role::Inference => "inference",
            Role::Network => "network",
            Role::Trainer => "trainer",
            Role::Evaluation => "evaluation",
            Role::Pool => "pool",
            Role::Other => "other",
        }
    }

    /// Short name for the progress line.
    pub fn short(self) -> &'static str {
        match self {
            Role::SelfPlay => "play",
            Role::Inference => "infer",
            Role::Network => "net",
            Role::Trainer => "train",
            Role::Evaluation => "eval",
            Role::Pool => "pool",
            Role::Other => "other",
        }
    }

    /// The role of a thread named `name`; `main`: it is the process's first thread.
    pub fn of(name: &str, main: bool) -> Role {
        if name.starts_with("az-selfplay") {
            Role::SelfPlay
        } else if name.starts_with("az-infer") {
            Role::Inference
        } else if name.starts_with("az-net") {
            Role::Network
        } else if name.starts_with("az-eval") {
            Role::Evaluation
        } else if name.starts_with("az-pool") {
            Role::Pool
        } else if main {
            Role::Trainer
        } else {
            Role::Other
        }
    }
}

/// Cores used by each role over an interval (indexed like [`Role::ALL`]).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct CpuUse {
    /// Cores per role.
    pub cores: [f64; 7],
}

impl CpuUse {
    /// Cores used by `role`.
    pub fn of(&self, role: Role) -> f64 {
        self.cores[Role::ALL.iter().position(|&r| r == role).unwrap_or(0)]
    }

    /// All cores used by the process.
    pub fn total(&self) -> f64 {
        self.cores.iter().sum()
    }

    /// The framework's share of self-play's CPU time: the self-play workers'
    /// and the inference server's threads (search, the game's rules, encoding,
    /// batching, channels) against those plus the network's forward passes
    /// (`az-net-*`). `None` without self-play, or when the forward passes do not
    /// run in their own threads (a GPU: then the server's threads hold both).
    pub fn framework_share(&self) -> Option<f64> {
        let framework = self.of(Role::SelfPlay) + self.of(Role::Inference);
        let network = self.of(Role::Network);
        (network > 0.0).then(|| framework / (framework + network))
    }

    /// `play 0.4 infer 0.3 train 0.6 …`: the roles that used at least 0.05 cores.
    pub fn summary(&self) -> String {
        let parts: Vec<String> = Role::ALL
            .iter()
            .zip(self.cores)
            .filter(|(_, c)| *c >= 0.05)
            .map(|(r, c)| format!("{} {c:.1}", r.short()))
            .collect();
        parts.join(" ")
    }
}

/// CPU time per thread at the last sample.
#[derive(Debug, Default)]
pub struct CpuClock {
    last: HashMap<u32, u64>,
}

impl CpuClock {
    /// A clock whose first interval starts now.
    pub fn new() -> Self {
        let mut clock = CpuClock::default();
        if let Some(threads) = threads() {
            clock.last = threads.into_iter().map(|t| (t.0, t.2)).collect();
        }
        clock
    }

    /// Cores used by each role since the last sample, over `wall` of wall time;
    /// `None` where the threads' times cannot be read. A thread that started in
    /// the interval counts all its time; one that ended in it is not counted.
    pub fn sample(&mut self, wall: Duration) -> Option<CpuUse> {
        let threads = threads()?;
        let secs = wall.as_secs_f64().max(1e-9);
        let mut used = CpuUse::default();
        let mut now = HashMap::with_capacity(threads.len());
        for (tid, role, ns) in threads {
            let before = self.last.get(&tid).copied().unwrap_or(0);
            let i = Role::ALL.iter().position(|&r| r == role).unwrap_or(6);
            used.cores[i] += ns.saturating_sub(before) as f64 / 1e9 / secs;
            now.insert(tid, ns);
        }
        self.last = now;
        Some(used)
    }
}

/// Every thread of this process: (id, role, nanoseconds on a CPU).
fn threads() -> Option<Vec<(u32, Role, u64)>> {
    let pid = std::process::id();
    let mut out = Vec::new();
    for entry in std::fs::read_dir("/proc/self/task").ok()? {
        let Ok(entry) = entry else { continue };
        let Some(tid) = entry.file_name().to_str().and_then(|s| s.parse().ok()) else {
            continue;
        };
        let path = entry.path();
        // A thread can end between the listing and the reads: skip it.
        let (Ok(name), Ok(stat)) = (
            std::fs::read_to_string(path.join("comm")),
            std::fs::read_to_string(path.join("schedstat")),
        ) else {
            continue;
        };
        let Some(ns) = stat.split_whitespace().next().and_then(|s| s.parse().ok()) else {
            continue;
        };
        out.push((tid, Role::of(name.trim(), tid == pid), ns));
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Instant;

    #[test]
    fn roles_come_from_thread_names() {
        assert_eq!(Role::of("az-selfplay-3", false), Role::SelfPlay);
        assert_eq!(Role::of("az-infer-0", false), Role::Inference);
        assert_eq!(Role::of("az-eval", false), Role::Evaluation);
        assert_eq!(Role::of("az-net-1", false), Role::Network);
        assert_eq!(Role::of("az-pool-1", false), Role::Pool);
        assert_eq!(Role::of("az", true), Role::Trainer);
        assert_eq!(Role::of("ctrl-c", false), Role::Other);
    }

    /// A thread named like a self-play worker that spins for a while shows up as
    /// about that much self-play CPU; one that sleeps adds nothing.
    #[test]
    fn a_busy_thread_is_counted_under_its_role() {
        if threads().is_none() {
            eprintln!("no /proc/self/task here: nothing to measure");
            return;
        }
        let mut clock = CpuClock::new();
        let t0 = Instant::now();
        let spin = std::thread::Builder::new()
            .name("az-selfplay-test".to_owned())
            .spawn(|| {
                let t = Instant::now();
                let mut x = 0u64;
                while t.elapsed() < Duration::from_millis(300) {
                    x = std::hint::black_box(x.wrapping_mul(31).wrapping_add(7));
                }
                // Stay alive until sampled, so the thread's time is read.
                std::thread::sleep(Duration::from_millis(300));
                x
            })
            .unwrap();
        let sleeper = std::thread::Builder::new()
            .name("az-eval".to_owned())
            .spawn(|| std::thread::sleep(Duration::from_millis(500)))
            .unwrap();
        std::thread::sleep(Duration::from_millis(450));
        let wall = t0.elapsed();
        let used = clock.sample(wall).unwrap();
        spin.join().unwrap();
        sleeper.join().unwrap();
        // 300 ms of spinning in ~450 ms; a loaded machine may run it less.
        let play = used.of(Role::SelfPlay) * wall.as_secs_f64();
        assert!(play > 0.05 && play < 0.5, "{used:?}");
        assert!(used.of(Role::Evaluation) < 0.05, "{used:?}");
        assert!(used.summary().contains("play"), "{}", used.summary());
    }
}
