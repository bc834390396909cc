//! A run's headline numbers for the page, from its `scalars.jsonl` (read on
//! from where the last look stopped, so a long run costs little per request).

use std::collections::BTreeMap;
use std::io::{Read, Seek, SeekFrom};
use std::path::Path;
use std::sync::Mutex;

/// Tags shown, by prefix.
const SHOWN: &[&str] = &[
    "eval/",
    "mistakes/search/",
    "mistakes/policy/",
    "mistakes/value/",
    "selfplay/games",
    "selfplay/positions_per_sec",
    "loss/total",
    "run/elapsed_seconds",
];

/// Per shown tag: the step and value of its newest point.
type Latest = BTreeMap<String, (u64, f64)>;

/// The newest value of each shown tag, and how far the file has been read.
#[derive(Debug, Default)]
pub struct RunView {
    seen: Mutex<(u64, Latest)>,
}

impl RunView {
    /// The headline numbers of the run in `run_dir` as JSON: `step` (the
    /// newest logged), and per shown tag its newest `[step, value]`.
    pub fn headline(&self, run_dir: &Path) -> serde_json::Value {
        let mut guard = self.seen.lock().unwrap_or_else(|p| p.into_inner());
        let (offset, latest) = &mut *guard;
        if let Ok(text) = read_from(&run_dir.join("scalars.jsonl"), offset) {
            for line in text.lines() {
                let Ok(v) = serde_json::from_str::<serde_json::Value>(line) else {
                    continue;
                };
                let (Some(tag), Some(step), Some(value)) =
                    (v["tag"].as_str(), v["step"].as_u64(), v["value"].as_f64())
                else {
                    continue;
                };
                if SHOWN.iter().any(|p| tag.starts_with(p)) {
                    latest.insert(tag.to_owned(), (step, value));
                }
            }
        }
        let step = latest.values().map(|(s, _)| *s).max().unwrap_or(0);
        let tags: serde_json::Map<String, serde_json::Value> = latest
            .iter()
            .map(|(t, (s, v))| (t.clone(), serde_json::json!([s, v])))
            .collect();
        serde_json::json!({"step": step, "tags": tags})
    }
}

/// The whole lines of `path` after `offset`; moves `offset` past them.
fn read_from(path: &Path, offset: &mut u64) -> std::io::Result<String> {
    let mut file = std::fs::File::open(path)?;
    if file.metadata()?.len() < *offset {
        *offset = 0; // a new file
    }
    file.seek(SeekFrom::Start(*offset))?;
    let mut bytes = Vec::new();
    file.read_to_end(&mut bytes)?;
    let whole = bytes.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
    *offset += whole as u64;
    Ok(String::from_utf8_lossy(&bytes[..whole]).into_owned())
}
