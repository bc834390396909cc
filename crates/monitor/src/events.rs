//! [`EventWriter`]: one TensorBoard event file.

use crate::crc32c::masked_crc32c;
use crate::proto::Msg;
use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// An event file could not be written.
#[derive(Debug, thiserror::Error)]
#[error("TensorBoard events {path}: {source}")]
pub struct EventError {
    /// The file or directory.
    pub path: PathBuf,
    /// Why.
    #[source]
    pub source: std::io::Error,
}

/// A histogram in TensorBoard's form: bucket `i` counts values in
/// `(bucket_limit[i-1], bucket_limit[i]]`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Histogram {
    /// Smallest value.
    pub min: f64,
    /// Largest value.
    pub max: f64,
    /// Number of values.
    pub num: f64,
    /// Their sum.
    pub sum: f64,
    /// Sum of their squares.
    pub sum_squares: f64,
    /// Upper edges of the buckets.
    pub bucket_limit: Vec<f64>,
    /// Counts per bucket.
    pub bucket: Vec<f64>,
}

impl Histogram {
    /// From counts of small integers: `counts[v]` values equal to `v` (such as batch
    /// sizes). One bucket per integer between the smallest and largest present.
    pub fn from_counts(counts: &[u64]) -> Histogram {
        let present = || counts.iter().enumerate().filter(|(_, c)| **c > 0);
        let Some((lo, _)) = present().next() else {
            return Histogram::default();
        };
        let hi = present().next_back().map_or(lo, |(v, _)| v);
        let mut h = Histogram {
            min: lo as f64,
            max: hi as f64,
            ..Histogram::default()
        };
        h.bucket_limit.push(lo as f64 - 0.5);
        h.bucket.push(0.0);
        for (v, &c) in counts.iter().enumerate().take(hi + 1).skip(lo) {
            let (x, n) = (v as f64, c as f64);
            h.num += n;
            h.sum += n * x;
            h.sum_squares += n * x * x;
            h.bucket_limit.push(x + 0.5);
            h.bucket.push(n);
        }
        h
    }

    fn encode(&self) -> Msg {
        let mut m = Msg::default();
        m.double(1, self.min)
            .double(2, self.max)
            .double(3, self.num)
            .double(4, self.sum)
            .double(5, self.sum_squares)
            .packed_doubles(6, &self.bucket_limit)
            .packed_doubles(7, &self.bucket);
        m
    }
}

/// Writes one TensorBoard event file in a directory. Every I/O error is returned,
/// never a panic; [`flush`](EventWriter::flush) reaches the disk; the file name is
/// unique per process and writer, so writers never overwrite each other.
#[derive(Debug)]
pub struct EventWriter {
    path: PathBuf,
    out: BufWriter<File>,
    mirror: Option<(PathBuf, BufWriter<File>)>,
}

static WRITERS: AtomicU32 = AtomicU32::new(0);

fn now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

impl EventWriter {
    /// A new event file in `dir` (created if missing).
    ///
    /// # Errors
    /// [`EventError`] naming the directory or file.
    pub fn create(dir: &Path) -> Result<EventWriter, EventError> {
        let err = |path: &Path| {
            let path = path.to_owned();
            move |source| EventError { path, source }
        };
        std::fs::create_dir_all(dir).map_err(err(dir))?;
        let host = std::env::var("HOSTNAME").unwrap_or_else(|_| "localhost".to_owned());
        let host: String = host
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
            .collect();
        loop {
            let n = WRITERS.fetch_add(1, Ordering::Relaxed);
            let name = format!(
                "events.out.tfevents.{:010}.{host}.{}.{n}",
                now() as u64,
                std::process::id()
            );
            let path = dir.join(name);
            match OpenOptions::new().write(true).create_new(true).open(&path) {
                Ok(file) => {
                    let mut w = EventWriter {
                        out: BufWriter::new(file),
                        path,
                        mirror: None,
                    };
                    let mut event = Msg::default();
                    event.double(1, now()).bytes(3, b"brain.Event:2");
                    w.record(&event.0)?;
                    w.flush()?;
                    return Ok(w);
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
                Err(e) => return Err(err(&path)(e)),
            }
        }
    }

    /// Also appends every scalar to `path` as a JSON line
    /// `{"step":S,"tag":"T","value":V}` (the value as stored, an `f32`), for
    /// scripts that do not read event files.
    ///
    /// # Errors
    /// [`EventError`] if the file cannot be opened.
    pub fn mirror_scalars(&mut self, path: &Path) -> Result<(), EventError> {
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .map_err(|source| EventError {
                path: path.to_owned(),
                source,
            })?;
        self.mirror = Some((path.to_owned(), BufWriter::new(file)));
        Ok(())
    }

    /// The file written.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn record(&mut self, data: &[u8]) -> Result<(), EventError> {
        let len = (data.len() as u64).to_le_bytes();
        let mut r = || {
            self.out.write_all(&len)?;
            self.out.write_all(&masked_crc32c(&len).to_le_bytes())?;
            self.out.write_all(data)?;
            self.out.write_all(&masked_crc32c(data).to_le_bytes())
        };
        r().map_err(|source| EventError {
            path: self.path.clone(),
            source,
        })
    }

    fn value(&mut self, step: i64, value: &Msg) -> Result<(), EventError> {
        let mut summary = Msg::default();
        summary.msg(1, value);
        let mut event = Msg::default();
        event.double(1, now()).int(2, step).msg(5, &summary);
        self.record(&event.0)
    }

    /// A scalar.
    ///
    /// # Errors
    /// [`EventError`] if the file cannot be written.
    pub fn scalar(&mut self, tag: &str, step: i64, value: f64) -> Result<(), EventError> {
        let mut v = Msg::default();
        v.bytes(1, tag.as_bytes()).float(2, value as f32);
        self.value(step, &v)?;
        if let Some((path, m)) = &mut self.mirror {
            let tag = tag.replace('\\', "\\\\").replace('"', "\\\"");
            let v = value as f32;
            let v = if v.is_finite() {
                format!("{v:?}")
            } else {
                format!("\"{v}\"")
            };
            writeln!(m, "{{\"step\":{step},\"tag\":\"{tag}\",\"value\":{v}}}").map_err(
                |source| EventError {
                    path: path.clone(),
                    source,
                },
            )?;
        }
        Ok(())
    }

    /// A histogram.
    ///
    /// # Errors
    /// [`EventError`] if the file cannot be written.
    pub fn histogram(&mut self, tag: &str, step: i64, h: &Histogram) -> Result<(), EventError> {
        let mut v = Msg::default();
        v.bytes(1, tag.as_bytes()).msg(5, &h.encode());
        self.value(step, &v)
    }

    /// Text (Markdown), shown by TensorBoard's text plugin.
    ///
    /// # Errors
    /// [`EventError`] if the file cannot be written.
    pub fn text(&mut self, tag: &str, step: i64, text: &str) -> Result<(), EventError> {
        let mut plugin = Msg::default();
        plugin.bytes(1, b"text");
        let mut meta = Msg::default();
        meta.msg(1, &plugin);
        let mut tensor = Msg::default();
        tensor
            .int(1, 7)
            .msg(2, &Msg::default())
            .bytes(8, text.as_bytes());
        let mut v = Msg::default();
        v.bytes(1, tag.as_bytes()).msg(8, &tensor).msg(9, &meta);
        self.value(step, &v)
    }

    /// Writes buffered events and waits for the disk.
    ///
    /// # Errors
    /// [`EventError`] if the file cannot be written.
    pub fn flush(&mut self) -> Result<(), EventError> {
        let path = &self.path;
        let err = |source| EventError {
            path: path.clone(),
            source,
        };
        self.out.flush().map_err(err)?;
        self.out.get_ref().sync_data().map_err(err)?;
        if let Some((path, m)) = &mut self.mirror {
            m.flush().map_err(|source| EventError {
                path: path.clone(),
                source,
            })?;
        }
        Ok(())
    }
}

impl Drop for EventWriter {
    fn drop(&mut self) {
        // Best effort: an error here has nowhere to go; callers flush to see errors.
        let _ = self.out.flush();
        if let Some((_, m)) = &mut self.mirror {
            let _ = m.flush();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn records(bytes: &[u8]) -> Vec<&[u8]> {
        let mut out = Vec::new();
        let mut i = 0;
        while i < bytes.len() {
            let len = u64::from_le_bytes(bytes[i..i + 8].try_into().unwrap()) as usize;
            let crc = u32::from_le_bytes(bytes[i + 8..i + 12].try_into().unwrap());
            assert_eq!(crc, masked_crc32c(&bytes[i..i + 8]));
            let data = &bytes[i + 12..i + 12 + len];
            let crc = u32::from_le_bytes(bytes[i + 12 + len..i + 16 + len].try_into().unwrap());
            assert_eq!(crc, masked_crc32c(data));
            out.push(data);
            i += 16 + len;
        }
        out
    }

    #[test]
    fn framing_and_unique_names() {
        let dir = std::env::temp_dir().join(format!("az-monitor-{}", std::process::id()));
        let mut a = EventWriter::create(&dir).unwrap();
        let b = EventWriter::create(&dir).unwrap();
        assert_ne!(a.path(), b.path());
        a.scalar("loss", 3, 0.5).unwrap();
        a.text("manifest", 0, "x").unwrap();
        a.histogram("batch", 3, &Histogram::from_counts(&[0, 2, 0, 5]))
            .unwrap();
        a.flush().unwrap();
        let bytes = std::fs::read(a.path()).unwrap();
        let recs = records(&bytes);
        assert_eq!(recs.len(), 4);
        assert!(recs[0].ends_with(b"brain.Event:2"));
        assert!(recs[1].windows(4).any(|w| w == b"loss"));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn histogram_from_counts() {
        let h = Histogram::from_counts(&[0, 2, 0, 5]);
        assert_eq!((h.min, h.max, h.num), (1.0, 3.0, 7.0));
        assert_eq!(h.sum, 2.0 + 15.0);
        assert_eq!(h.sum_squares, 2.0 + 45.0);
        assert_eq!(h.bucket_limit, [0.5, 1.5, 2.5, 3.5]);
        assert_eq!(h.bucket, [0.0, 2.0, 0.0, 5.0]);
        assert_eq!(Histogram::from_counts(&[0, 0]), Histogram::default());
    }
}
