//! The C allocator's settings for `az`.
//!
//! Every Burn operation allocates its output, so a forward pass frees and
//! re-allocates megabyte-sized buffers hundreds of times a second. With glibc's
//! defaults each such buffer comes from `mmap` (or is trimmed back to the OS when
//! freed) and is faulted in and zeroed again on the next use: measured on connect4
//! (docs/PERFORMANCE.md), that cost a third of the network's speed in self-play.
//! Raising the mmap and trim thresholds keeps freed memory in the process for
//! reuse.

/// Allocations larger than this still go straight to `mmap` (the replay buffer).
const MMAP_THRESHOLD: i32 = 32 << 20;
/// Freed memory kept at the top of a heap before it goes back to the OS.
const TRIM_THRESHOLD: i32 = 128 << 20;

/// What [`keep_freed_memory`] did, for benchmark reports.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Tuning {
    /// The thresholds were raised.
    Tuned,
    /// `GLIBC_TUNABLES` sets malloc parameters itself: left as the user chose.
    UserTunables,
    /// Not glibc: nothing to do.
    NotGlibc,
    /// glibc refused a setting.
    Refused,
}

static DONE: std::sync::OnceLock<Tuning> = std::sync::OnceLock::new();

/// What [`keep_freed_memory`] did in this process (`None`: not called, as in
/// tests that call commands as a library).
pub fn tuning() -> Option<Tuning> {
    DONE.get().copied()
}

/// Raises glibc's mmap and trim thresholds, unless `GLIBC_TUNABLES` sets malloc
/// parameters. Call it first in `main`, before any thread starts.
pub fn keep_freed_memory() -> Tuning {
    *DONE.get_or_init(set_thresholds)
}

#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[allow(unsafe_code)]
fn set_thresholds() -> Tuning {
    if std::env::var("GLIBC_TUNABLES").is_ok_and(|t| t.contains("glibc.malloc.")) {
        return Tuning::UserTunables;
    }
    // SAFETY: mallopt only sets allocator parameters (it takes the arena lock);
    // it neither reads nor frees memory of ours.
    let ok = unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, MMAP_THRESHOLD) == 1
            && libc::mallopt(libc::M_TRIM_THRESHOLD, TRIM_THRESHOLD) == 1
    };
    if ok { Tuning::Tuned } else { Tuning::Refused }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn set_thresholds() -> Tuning {
    Tuning::NotGlibc
}

/// [`tuning`] as a word for benchmark reports.
pub fn report() -> String {
    tuning().map_or("default".into(), |t| format!("{t:?}").to_lowercase())
}
