//! What the server measured: batches, fill, and where its time went.

use std::time::Duration;

/// Counters of an inference server, summed over its threads.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ServerStats {
    /// The configured largest batch.
    pub max_batch: usize,
    /// Forward passes run.
    pub batches: u64,
    /// Positions evaluated.
    pub positions: u64,
    /// Requests answered.
    pub requests: u64,
    /// `histogram[n]`: forward passes of exactly `n` positions (`0..=max_batch`).
    pub histogram: Vec<u64>,
    /// Time in the model's forward pass, summed over threads.
    pub forward: Duration,
    /// Wall time with at least one forward pass in flight: the device busy.
    /// Two threads' overlapping passes count once, so `busy <= forward`.
    pub busy: Duration,
    /// Time copying requests into the model's buffers and answers back.
    pub pack: Duration,
    /// Time sending answers.
    pub reply: Duration,
    /// Time waiting for a first request (nothing to do).
    pub idle: Duration,
    /// Time waiting for more requests to fill a batch, until full or the deadline.
    pub collect: Duration,
    /// Sum over requests of the time from sending to the start of their forward pass.
    pub queue_wait: Duration,
    /// Model swaps picked up (summed over threads).
    pub swaps: u64,
}

impl ServerStats {
    /// Mean positions per forward pass divided by `max_batch`.
    pub fn batch_fill(&self) -> f64 {
        if self.batches == 0 || self.max_batch == 0 {
            return 0.0;
        }
        self.positions as f64 / self.batches as f64 / self.max_batch as f64
    }

    /// The share of `wall` (the interval these counters cover) with a forward
    /// pass in flight: how busy the device was kept.
    pub fn busy_share(&self, wall: Duration) -> f64 {
        if wall.is_zero() {
            return 0.0;
        }
        (self.busy.as_secs_f64() / wall.as_secs_f64()).min(1.0)
    }

    /// Mean queue wait per request.
    pub fn mean_queue_wait(&self) -> Duration {
        if self.requests == 0 {
            Duration::ZERO
        } else {
            self.queue_wait / self.requests as u32
        }
    }

    /// Adds `other` into `self` (histograms element-wise).
    pub fn merge(&mut self, other: &ServerStats) {
        self.max_batch = self.max_batch.max(other.max_batch);
        self.batches += other.batches;
        self.positions += other.positions;
        self.requests += other.requests;
        if self.histogram.len() < other.histogram.len() {
            self.histogram.resize(other.histogram.len(), 0);
        }
        for (a, b) in self.histogram.iter_mut().zip(&other.histogram) {
            *a += b;
        }
        self.forward += other.forward;
        self.busy += other.busy;
        self.pack += other.pack;
        self.reply += other.reply;
        self.idle += other.idle;
        self.collect += other.collect;
        self.queue_wait += other.queue_wait;
        self.swaps += other.swaps;
    }

    /// The change from `earlier` to `self`, for measuring an interval.
    pub fn since(&self, earlier: &ServerStats) -> ServerStats {
        let mut d = self.clone();
        d.batches -= earlier.batches;
        d.positions -= earlier.positions;
        d.requests -= earlier.requests;
        for (a, b) in d.histogram.iter_mut().zip(&earlier.histogram) {
            *a -= b;
        }
        d.forward -= earlier.forward;
        d.busy = d.busy.saturating_sub(earlier.busy);
        d.pack -= earlier.pack;
        d.reply -= earlier.reply;
        d.idle -= earlier.idle;
        d.collect -= earlier.collect;
        d.queue_wait -= earlier.queue_wait;
        d.swaps -= earlier.swaps;
        d
    }
}
