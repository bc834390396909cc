//! The inference server: threads that merge requests into batches and run the model.

use crate::{Batch, BatchModel, ServerStats};
use flume::{Receiver, RecvTimeoutError, Sender, TryRecvError};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Settings of the server.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServerConfig {
    /// Largest forward pass, in positions.
    pub max_batch: usize,
    /// How long a batch waits for more requests after the first one was sent.
    pub deadline: Duration,
    /// Server threads; two or more keep a batch in flight while another is packed.
    pub threads: usize,
    /// The most requests clients can have in flight at once (self-play: workers ×
    /// groups), or 0 if unknown. Once the server holds that many, nothing more can
    /// come, so it runs the batch at once instead of waiting for the deadline.
    pub max_outstanding: usize,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            max_batch: 256,
            deadline: Duration::from_millis(2),
            threads: 1,
            max_outstanding: 0,
        }
    }
}

struct Request {
    batch: Batch,
    reply: Sender<Batch>,
}

/// The server is gone (all its threads ended); the batch comes back unanswered.
#[derive(Debug)]
pub struct Disconnected(pub Box<Batch>);

impl std::fmt::Display for Disconnected {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the inference server has stopped")
    }
}

impl std::error::Error for Disconnected {}

/// A handle for sending batches to the server; clone one per worker. The server
/// stops once every client is dropped.
#[derive(Clone, Debug)]
pub struct Client {
    tx: Sender<Request>,
}

impl Client {
    /// Sends `batch`; its answer arrives on `reply`. Does not block.
    ///
    /// Give each request a sender that nobody else keeps (a fresh `bounded(1)`
    /// channel): if the server fails with the request, the sender is dropped and
    /// the receiver sees a disconnection instead of waiting forever.
    ///
    /// # Errors
    /// [`Disconnected`] with the batch if the server has stopped.
    pub fn send(&self, mut batch: Batch, reply: Sender<Batch>) -> Result<(), Disconnected> {
        batch.sent = Some(Instant::now());
        self.tx
            .send(Request { batch, reply })
            .map_err(|e| Disconnected(Box::new(e.0.batch)))
    }

    /// Sends `batch` and waits for its answer (a convenience; it makes a reply
    /// channel per call).
    ///
    /// # Errors
    /// [`Disconnected`] if the server has stopped.
    pub fn evaluate(&self, batch: Batch) -> Result<Batch, Disconnected> {
        let (tx, rx) = flume::bounded(1);
        let input_len = batch.input_len();
        let num_actions = batch.num_actions();
        self.send(batch, tx)?;
        rx.recv()
            .map_err(|_| Disconnected(Box::new(Batch::new(input_len, num_actions, 0))))
    }
}

/// The current model and its version; server threads pick up new versions
/// between batches.
#[derive(Debug)]
struct Slot<M> {
    version: AtomicU64,
    model: Mutex<M>,
}

/// Publishes new weights to a running server (hot swap).
#[derive(Debug)]
pub struct Publisher<M> {
    slot: Arc<Slot<M>>,
}

impl<M> Clone for Publisher<M> {
    fn clone(&self) -> Self {
        Publisher {
            slot: Arc::clone(&self.slot),
        }
    }
}

impl<M: BatchModel> Publisher<M> {
    /// Replaces the model; every server thread uses it from its next batch on.
    /// Returns the new version number.
    pub fn publish(&self, model: M) -> u64 {
        let mut current = self
            .slot
            .model
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        *current = model;
        self.slot.version.fetch_add(1, Ordering::AcqRel) + 1
    }

    /// Version of the current model (0 for the one the server started with).
    pub fn version(&self) -> u64 {
        self.slot.version.load(Ordering::Acquire)
    }
}

/// A running inference server.
#[derive(Debug)]
pub struct Server<M> {
    threads: Vec<JoinHandle<()>>,
    stats: Vec<Arc<Mutex<ServerStats>>>,
    publisher: Publisher<M>,
}

impl<M: BatchModel> Server<M> {
    /// Starts `config.threads` server threads (at least 1) around `model`.
    pub fn start(model: M, config: ServerConfig) -> (Server<M>, Client) {
        let config = ServerConfig {
            max_batch: config.max_batch.max(1),
            threads: config.threads.max(1),
            ..config
        };
        let (tx, rx) = flume::unbounded();
        let slot = Arc::new(Slot {
            version: AtomicU64::new(0),
            model: Mutex::new(model),
        });
        let mut threads = Vec::new();
        let mut stats = Vec::new();
        let taken = Arc::new(AtomicUsize::new(0));
        let flushes = Arc::new(AtomicU64::new(0));
        for i in 0..config.threads {
            let s = Arc::new(Mutex::new(ServerStats {
                max_batch: config.max_batch,
                histogram: vec![0; config.max_batch + 1],
                ..ServerStats::default()
            }));
            stats.push(Arc::clone(&s));
            let worker = ServerThread::new(
                rx.clone(),
                (Arc::clone(&taken), Arc::clone(&flushes)),
                Arc::clone(&slot),
                config.clone(),
                s,
            );
            let handle = std::thread::Builder::new()
                .name(format!("az-infer-{i}"))
                .spawn(move || worker.run())
                .expect("spawning an inference thread");
            threads.push(handle);
        }
        (
            Server {
                threads,
                stats,
                publisher: Publisher { slot },
            },
            Client { tx },
        )
    }

    /// A handle to publish new weights.
    pub fn publisher(&self) -> Publisher<M> {
        self.publisher.clone()
    }

    /// Counters so far, summed over threads.
    pub fn stats(&self) -> ServerStats {
        let mut total = ServerStats::default();
        for s in &self.stats {
            total.merge(&s.lock().unwrap_or_else(PoisonError::into_inner));
        }
        total
    }

    /// Waits until every thread has ended (they end once all clients are dropped
    /// and the requests already sent are answered) and returns the final counters.
    ///
    /// # Errors
    /// The panic message of a server thread that panicked (in the model).
    pub fn join(self) -> Result<ServerStats, String> {
        let mut failure = None;
        for t in self.threads {
            if let Err(panic) = t.join() {
                let msg = panic
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| panic.downcast_ref::<&str>().map(|s| (*s).to_owned()))
                    .unwrap_or_else(|| "unknown panic".to_owned());
                failure = Some(format!("inference thread panicked: {msg}"));
            }
        }
        let mut total = ServerStats::default();
        for s in &self.stats {
            total.merge(&s.lock().unwrap_or_else(PoisonError::into_inner));
        }
        failure.map_or(Ok(total), Err)
    }
}

struct ServerThread<M> {
    rx: Receiver<Request>,
    /// Requests taken off the channel by any server thread and not yet answered.
    taken: Arc<AtomicUsize>,
    /// Bumped when a thread finds every outstanding request held: all threads flush.
    flushes: Arc<AtomicU64>,
    slot: Arc<Slot<M>>,
    config: ServerConfig,
    shared_stats: Arc<Mutex<ServerStats>>,
}

impl<M: BatchModel> ServerThread<M> {
    fn new(
        rx: Receiver<Request>,
        (taken, flushes): (Arc<AtomicUsize>, Arc<AtomicU64>),
        slot: Arc<Slot<M>>,
        config: ServerConfig,
        stats: Arc<Mutex<ServerStats>>,
    ) -> Self {
        ServerThread {
            rx,
            taken,
            flushes,
            slot,
            config,
            shared_stats: stats,
        }
    }

    fn current_model(&self) -> (M, u64) {
        let model = self
            .slot
            .model
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        (model.clone(), self.slot.version.load(Ordering::Acquire))
    }

    fn run(self) {
        let (mut model, mut version) = self.current_model();
        let (input_len, num_actions) = (model.input_len(), model.num_actions());
        let max = self.config.max_batch;
        let mut inputs = vec![0.0f32; max * input_len];
        let mut masks = vec![0.0f32; max * num_actions];
        let mut policy = vec![0.0f32; max * num_actions];
        let mut value = vec![0.0f32; max];
        let mut requests: Vec<Request> = Vec::with_capacity(max);
        let mut held: Option<Request> = None;
        let mut local = ServerStats::default();
        loop {
            let t0 = Instant::now();
            // Read before taking a request: a flush-all by another thread after this
            // point is seen (read later, one that happened while this thread took its
            // first request could be missed, and that request would wait the deadline).
            let epoch = self.flushes.load(Ordering::Acquire);
            let first = match held.take() {
                Some(r) => r,
                None => match self.rx.recv() {
                    Ok(r) => {
                        self.taken.fetch_add(1, Ordering::AcqRel);
                        r
                    }
                    Err(_) => return, // every client is gone: stop
                },
            };
            let t1 = Instant::now();
            local.idle += t1 - t0;
            let deadline = first.batch.sent.unwrap_or(t1) + self.config.deadline;
            let mut total = first.batch.len();
            requests.push(first);
            let outstanding = self.config.max_outstanding;
            // With several threads another one may take the last request: look again
            // every 100 µs instead of sleeping to the deadline.
            let slice =
                (self.config.threads > 1 && outstanding > 0).then(|| Duration::from_micros(100));
            while total < max {
                let next = match self.rx.try_recv() {
                    Ok(r) => Some(r),
                    Err(TryRecvError::Disconnected) => break,
                    Err(TryRecvError::Empty) => {
                        if outstanding > 0 && self.taken.load(Ordering::Acquire) >= outstanding {
                            // Every request that can exist is held by some thread: all
                            // of them flush now (another may answer its part first, and
                            // the count would then never be seen again).
                            self.flushes.fetch_add(1, Ordering::AcqRel);
                            break;
                        }
                        if self.flushes.load(Ordering::Acquire) != epoch {
                            break; // another thread saw them all held
                        }
                        let wake = slice.map_or(deadline, |s| deadline.min(Instant::now() + s));
                        match self.rx.recv_deadline(wake) {
                            Ok(r) => Some(r),
                            Err(RecvTimeoutError::Timeout) if Instant::now() < deadline => None,
                            Err(_) => break, // deadline passed, or no client left: run what we have
                        }
                    }
                };
                let Some(r) = next else { continue };
                self.taken.fetch_add(1, Ordering::AcqRel);
                if total + r.batch.len() > max {
                    held = Some(r); // it opens the next batch
                    break;
                }
                total += r.batch.len();
                requests.push(r);
            }
            let t2 = Instant::now();
            local.collect += t2 - t1;

            if self.slot.version.load(Ordering::Acquire) != version {
                (model, version) = self.current_model();
                local.swaps += 1;
            }
            for r in &requests {
                local.queue_wait += r
                    .batch
                    .sent
                    .map_or(Duration::ZERO, |s| t2.saturating_duration_since(s));
            }
            self.evaluate(
                &mut model,
                &mut requests,
                (&mut inputs, &mut masks, &mut policy, &mut value),
                &mut local,
            );
            let t3 = Instant::now();
            local.requests += requests.len() as u64;
            self.taken.fetch_sub(requests.len(), Ordering::AcqRel);
            for r in requests.drain(..) {
                let _ = r.reply.send(r.batch); // a client that left no longer wants it
            }
            local.reply += t3.elapsed();
            let mut shared = self
                .shared_stats
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            shared.merge(&local);
            local = ServerStats::default();
        }
    }

    /// Packs the requests into forward passes of at most `max_batch` positions
    /// (a request larger than that is split), runs them, unpacks the answers.
    fn evaluate(
        &self,
        model: &mut M,
        requests: &mut [Request],
        (inputs, masks, policy, value): (
            &mut Vec<f32>,
            &mut Vec<f32>,
            &mut Vec<f32>,
            &mut Vec<f32>,
        ),
        stats: &mut ServerStats,
    ) {
        let max = self.config.max_batch;
        let (il, na) = (model.input_len(), model.num_actions());
        // Positions are addressed as (request, row); fill forward passes in order.
        let mut cursor = (0usize, 0usize);
        for r in requests.iter_mut() {
            r.batch.prepare_outputs();
        }
        while cursor.0 < requests.len() {
            let t0 = Instant::now();
            let mut n = 0;
            let start = cursor;
            while n < max && cursor.0 < requests.len() {
                let b = &requests[cursor.0].batch;
                let take = (b.len() - cursor.1).min(max - n);
                inputs[n * il..(n + take) * il]
                    .copy_from_slice(&b.inputs[cursor.1 * il..(cursor.1 + take) * il]);
                masks[n * na..(n + take) * na]
                    .copy_from_slice(&b.masks[cursor.1 * na..(cursor.1 + take) * na]);
                n += take;
                cursor.1 += take;
                if cursor.1 == b.len() {
                    cursor = (cursor.0 + 1, 0);
                }
            }
            let t1 = Instant::now();
            model.forward(
                n,
                &inputs[..n * il],
                &masks[..n * na],
                &mut policy[..n * na],
                &mut value[..n],
            );
            let t2 = Instant::now();
            // Unpack in the same order.
            let mut at = start;
            let mut m = 0;
            while m < n {
                let b = &mut requests[at.0].batch;
                let take = (b.len() - at.1).min(n - m);
                b.policy[at.1 * na..(at.1 + take) * na]
                    .copy_from_slice(&policy[m * na..(m + take) * na]);
                b.value[at.1..at.1 + take].copy_from_slice(&value[m..m + take]);
                m += take;
                at.1 += take;
                if at.1 == b.len() {
                    at = (at.0 + 1, 0);
                }
            }
            stats.batches += 1;
            stats.positions += n as u64;
            if stats.histogram.len() <= max {
                stats.histogram.resize(max + 1, 0);
            }
            stats.histogram[n] += 1;
            stats.forward += t2 - t1;
            stats.pack += (t1 - t0) + t2.elapsed();
        }
    }
}
