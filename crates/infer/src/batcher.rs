//! One server thread (a batcher): a queue of positions cut into full forward passes.

use crate::busy::BusyClock;
use crate::publisher::ModelSlot;
use crate::request::Request;
use crate::{BatchModel, ServerConfig, ServerStats};
use flume::{Receiver, RecvTimeoutError, TryRecvError};
use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

/// A request in the thread's queue and how many of its rows are done.
struct Queued {
    request: Request,
    done: usize,
}

/// Requests outstanding over the threads of one server, and the flushes they caused.
#[derive(Debug, Default)]
pub(crate) struct Outstanding {
    /// Requests taken off the channel by any thread and not yet answered.
    pub taken: AtomicUsize,
    /// Bumped when a thread finds every outstanding request held: every thread
    /// holding a request taken before the bump flushes.
    pub flushes: AtomicU64,
}

/// A server thread. Requests are queued in arrival order and their positions cut
/// into forward passes of exactly `max_batch` (a request may span two passes);
/// a request is answered as soon as its last position is evaluated. A pass with
/// fewer positions runs only when nothing more can come: the thread waited the
/// deadline for more, every outstanding request is held, or the clients are gone.
pub(crate) struct Batcher<M> {
    pub rx: Receiver<Request>,
    pub outstanding: Arc<Outstanding>,
    pub slot: Arc<ModelSlot<M>>,
    pub config: ServerConfig,
    pub stats: Arc<Mutex<ServerStats>>,
    pub busy: Arc<BusyClock>,
    /// The pool forward passes run in (`ServerConfig::math_threads`), if any.
    pub math: Option<Arc<rayon::ThreadPool>>,
}

impl<M: BatchModel> Batcher<M> {
    fn current_model(&self) -> (M, u64) {
        let model = self
            .slot
            .model
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        (model.clone(), self.slot.version.load(Ordering::Acquire))
    }

    /// Queues a request. `epoch` is the flush count read just before the first
    /// request of an empty queue is counted: a bump after it happened while this
    /// thread held that request, so it concerns this thread. (No bump can fall
    /// between the read and the count: with this request unanswered, fewer than
    /// `max_outstanding` others can be counted.)
    fn take(
        &self,
        request: Request,
        queue: &mut VecDeque<Queued>,
        rows: &mut usize,
        epoch: &mut u64,
    ) {
        if queue.is_empty() {
            *epoch = self.outstanding.flushes.load(Ordering::SeqCst);
        }
        self.outstanding.taken.fetch_add(1, Ordering::SeqCst);
        *rows += request.batch.len();
        queue.push_back(Queued { request, done: 0 });
    }

    pub(crate) fn run(self) {
        let (mut model, mut version) = self.current_model();
        let (il, na) = (model.input_len(), model.num_actions());
        let max = self.config.max_batch;
        let outstanding = self.config.max_outstanding;
        // With several threads another one may take the last request: look again
        // every 100 µs instead of sleeping to the deadline.
        let slice =
            (self.config.threads > 1 && outstanding > 0).then(|| Duration::from_micros(100));
        let mut inputs = vec![0.0f32; max * il];
        let mut masks = vec![0.0f32; max * na];
        let mut policy = vec![0.0f32; max * na];
        let mut value = vec![0.0f32; max];
        let mut queue: VecDeque<Queued> = VecDeque::new();
        let mut rows = 0usize; // positions queued and not yet evaluated
        // Flush count when the oldest queued request was taken (set by `take`; the
        // collect loop below only runs with a request queued).
        let mut epoch = 0;
        let mut disconnected = false;
        let mut local = ServerStats::default();
        loop {
            let t0 = Instant::now();
            if queue.is_empty() {
                if disconnected {
                    return;
                }
                match self.rx.recv() {
                    Ok(r) => self.take(r, &mut queue, &mut rows, &mut epoch),
                    Err(_) => return, // every client is gone and nothing is queued: stop
                }
            }
            let t1 = Instant::now();
            local.idle += t1 - t0;
            // The deadline runs from the moment this thread has nothing to do but
            // wait: the remainder of a request cut by a full pass has waited while
            // that pass ran, but flushing it early would only shrink the next pass.
            let deadline = t1 + self.config.deadline;
            while rows < max && !disconnected {
                match self.rx.try_recv() {
                    Ok(r) => {
                        self.take(r, &mut queue, &mut rows, &mut epoch);
                        continue;
                    }
                    Err(TryRecvError::Disconnected) => {
                        disconnected = true;
                        break;
                    }
                    Err(TryRecvError::Empty) => {}
                }
                if outstanding > 0 && self.outstanding.taken.load(Ordering::SeqCst) >= outstanding {
                    // Every request that can exist is held: flush, and tell the
                    // other threads (one may answer its part first, and the count
                    // would then never be seen again).
                    self.outstanding.flushes.fetch_add(1, Ordering::SeqCst);
                    break;
                }
                if self.outstanding.flushes.load(Ordering::SeqCst) != epoch {
                    break; // another thread saw them all held, ours among them
                }
                let wake = slice.map_or(deadline, |s| deadline.min(Instant::now() + s));
                match self.rx.recv_deadline(wake) {
                    Ok(r) => self.take(r, &mut queue, &mut rows, &mut epoch),
                    Err(RecvTimeoutError::Timeout) if Instant::now() < deadline => {}
                    Err(RecvTimeoutError::Timeout) => break,
                    Err(RecvTimeoutError::Disconnected) => disconnected = true,
                }
            }
            let t2 = Instant::now();
            local.collect += t2 - t1;

            if self.slot.version.load(Ordering::Acquire) != version {
                (model, version) = self.current_model();
                local.swaps += 1;
            }
            // One pass, or several while full ones are available (and the last
            // partial one when flushing).
            loop {
                let n = rows.min(max);
                if n == 0 {
                    break;
                }
                let buffers = (
                    &mut inputs[..],
                    &mut masks[..],
                    &mut policy[..],
                    &mut value[..],
                );
                self.forward(&mut model, &mut queue, n, buffers, t2, &mut local);
                rows -= n;
                if rows < max {
                    break;
                }
            }
            // A partial pass ran only when flushing; after it the queue is empty.
            let mut shared = self.stats.lock().unwrap_or_else(PoisonError::into_inner);
            shared.merge(&local);
            local = ServerStats::default();
        }
    }

    /// Evaluates the first `n` queued positions and answers the requests they complete.
    fn forward(
        &self,
        model: &mut M,
        queue: &mut VecDeque<Queued>,
        n: usize,
        (inputs, masks, policy, value): (&mut [f32], &mut [f32], &mut [f32], &mut [f32]),
        started: Instant,
        stats: &mut ServerStats,
    ) {
        let (il, na) = (model.input_len(), model.num_actions());
        let t0 = Instant::now();
        let mut filled = 0;
        for q in queue.iter_mut() {
            if filled == n {
                break;
            }
            let b = &q.request.batch;
            if q.done == 0 {
                stats.queue_wait += b
                    .sent
                    .map_or(Duration::ZERO, |s| started.saturating_duration_since(s));
            }
            let take = (b.len() - q.done).min(n - filled);
            let (from, to) = (q.done, q.done + take);
            inputs[filled * il..(filled + take) * il]
                .copy_from_slice(&b.inputs[from * il..to * il]);
            masks[filled * na..(filled + take) * na].copy_from_slice(&b.masks[from * na..to * na]);
            filled += take;
        }
        let t1 = Instant::now();
        let running = self.busy.start();
        let mut pass = || {
            model.forward(
                n,
                &inputs[..n * il],
                &masks[..n * na],
                &mut policy[..n * na],
                &mut value[..n],
            );
        };
        match &self.math {
            Some(pool) => pool.install(pass),
            None => pass(),
        }
        drop(running);
        let t2 = Instant::now();
        let mut used = 0;
        for q in queue.iter_mut() {
            if used == n {
                break;
            }
            let b = &mut q.request.batch;
            b.prepare_outputs();
            let take = (b.len() - q.done).min(n - used);
            let (from, to) = (q.done, q.done + take);
            b.policy[from * na..to * na].copy_from_slice(&policy[used * na..(used + take) * na]);
            b.value[from..to].copy_from_slice(&value[used..used + take]);
            q.done = to;
            used += take;
        }
        let t3 = Instant::now();
        let answered = queue
            .iter()
            .take_while(|q| q.done == q.request.batch.len())
            .count();
        // Uncounted before the replies go out: a client sends its next request only
        // after a reply, and that request must not find this one still counted.
        self.outstanding.taken.fetch_sub(answered, Ordering::SeqCst);
        for q in queue.drain(..answered) {
            let _ = q.request.reply.send(q.request.batch); // a client that left no longer wants it
        }
        stats.requests += answered as u64;
        stats.reply += t3.elapsed();
        stats.batches += 1;
        stats.positions += n as u64;
        let max = self.config.max_batch;
        if stats.histogram.len() <= max {
            stats.histogram.resize(max + 1, 0);
        }
        stats.histogram[n] += 1;
        stats.forward += t2 - t1;
        stats.pack += (t1 - t0) + (t3 - t2);
    }
}
