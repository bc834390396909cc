//! The inference server: threads that merge requests into batches and run the model.

use crate::batcher::{Batcher, Outstanding};
use crate::busy::BusyClock;
use crate::publisher::{ModelSlot, Publisher};
use crate::request::Request;
use crate::{Batch, BatchModel, ServerStats};
use flume::{Receiver, RecvTimeoutError, Sender};
use std::sync::atomic::AtomicU64;
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
    /// The most requests clients keep in flight at once (self-play: workers ×
    /// groups, each worker sending a group's next request before it waits for the
    /// next answer), or 0 if unknown. Once the server holds that many, nothing more
    /// can come, so it runs what it has at once instead of waiting for the deadline.
    pub max_outstanding: usize,
    /// Threads of the server's own math pool (`az-net-N`, rayon) that its forward
    /// passes run in, so that a CPU network's parallel work is told apart from the
    /// trainer's and the evaluator's (which use rayon's global pool); 0: the
    /// forward pass runs on the server thread (a GPU network).
    pub math_threads: usize,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            max_batch: 256,
            deadline: Duration::from_millis(2),
            threads: 1,
            max_outstanding: 0,
            math_threads: 0,
        }
    }
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
    /// Sends `batch`; its answer arrives on `reply` (wait for it with
    /// [`receive`](Client::receive)). Does not block.
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

    /// Waits for the answer to a request [`send`](Client::send) gave `reply`'s
    /// sender; `None` if the server stopped without answering it. That is either
    /// the sender dropped with a failed batch, or every server thread gone while
    /// the request still sat in the queue: flume keeps queued requests (and their
    /// reply senders) for as long as a client holds the channel, so a plain
    /// `recv` would wait forever there.
    pub fn receive(&self, reply: &Receiver<Batch>) -> Option<Batch> {
        loop {
            match reply.recv_timeout(Duration::from_millis(20)) {
                Ok(batch) => return Some(batch),
                Err(RecvTimeoutError::Disconnected) => return None,
                Err(RecvTimeoutError::Timeout) if self.tx.is_disconnected() => {
                    // An answer sent just before the last thread ended is still here.
                    return reply.try_recv().ok();
                }
                Err(RecvTimeoutError::Timeout) => {}
            }
        }
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
        self.receive(&rx)
            .ok_or_else(|| Disconnected(Box::new(Batch::new(input_len, num_actions, 0))))
    }
}

/// A running inference server.
///
/// # Examples
/// One request by hand: an encoded position and its legal-move mask in, a
/// policy over the legal moves and a value out.
/// ```
/// use az_infer::{Batch, Server, ServerConfig, UniformModel};
///
/// let model = UniformModel { input_len: 2, num_actions: 3 };
/// let (server, client) = Server::start(model, ServerConfig::default());
/// let mut batch = Batch::new(2, 3, 1);
/// let (input, mask) = batch.push();
/// input.copy_from_slice(&[0.5, -0.5]);
/// mask.copy_from_slice(&[1.0, 0.0, 1.0]); // moves 0 and 2 are legal
/// let answered = client.evaluate(batch).unwrap();
/// assert_eq!(answered.output(0), (&[0.5, 0.0, 0.5][..], 0.0));
/// drop(client); // the last client is gone: the server stops
/// assert_eq!(server.join().unwrap().positions, 1);
/// ```
#[derive(Debug)]
pub struct Server<M> {
    threads: Vec<JoinHandle<()>>,
    stats: Vec<Arc<Mutex<ServerStats>>>,
    busy: Arc<BusyClock>,
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
        let slot = Arc::new(ModelSlot {
            version: AtomicU64::new(0),
            model: Mutex::new(model),
        });
        let mut threads = Vec::new();
        let mut stats = Vec::new();
        let outstanding = Arc::new(Outstanding::default());
        let busy = Arc::new(BusyClock::default());
        // Without its pool (it cannot be built) the server runs passes itself.
        let math = (config.math_threads > 0)
            .then(|| {
                rayon::ThreadPoolBuilder::new()
                    .num_threads(config.math_threads)
                    .thread_name(|i| format!("az-net-{i}"))
                    .build()
                    .ok()
            })
            .flatten()
            .map(Arc::new);
        for i in 0..config.threads {
            let s = Arc::new(Mutex::new(ServerStats {
                max_batch: config.max_batch,
                histogram: vec![0; config.max_batch + 1],
                ..ServerStats::default()
            }));
            stats.push(Arc::clone(&s));
            let batcher = Batcher {
                rx: rx.clone(),
                outstanding: Arc::clone(&outstanding),
                slot: Arc::clone(&slot),
                config: config.clone(),
                stats: s,
                busy: Arc::clone(&busy),
                math: math.clone(),
            };
            let handle = std::thread::Builder::new()
                .name(format!("az-infer-{i}"))
                .spawn(move || batcher.run())
                .expect("spawning an inference thread");
            threads.push(handle);
        }
        (
            Server {
                threads,
                stats,
                busy,
                publisher: Publisher::new(slot),
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
        total.busy = self.busy.total();
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
                let msg = panic_message(panic.as_ref());
                failure = Some(format!("inference thread panicked: {msg}"));
            }
        }
        let mut total = ServerStats::default();
        for s in &self.stats {
            total.merge(&s.lock().unwrap_or_else(PoisonError::into_inner));
        }
        total.busy = self.busy.total();
        failure.map_or(Ok(total), Err)
    }
}

/// The message of a thread's panic payload (`panic!` gives a `String` or a `&str`).
pub fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| payload.downcast_ref::<&str>().map(|s| (*s).to_owned()))
        .unwrap_or_else(|| "unknown panic".to_owned())
}
