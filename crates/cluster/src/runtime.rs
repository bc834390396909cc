//! The transport's own tokio runtime, and the state its tasks share: why the link gave up,
//! whether it is closing, and one-line notices of trouble and recovery.

use crate::error::ClusterError;
use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;
use tokio::sync::watch;

/// A one-worker tokio runtime on threads of its own (`az-nats-<role>`).
///
/// The rest of az never runs inside it: it talks to the tasks through flume channels, and the
/// blocking calls (`connect`, `latest_weights`) wait on it from their own thread.
#[derive(Debug)]
pub(crate) struct Runtime {
    runtime: tokio::runtime::Runtime,
}

impl Runtime {
    pub(crate) fn new(role: &str) -> Result<Self, ClusterError> {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name(format!("az-nats-{role}"))
            .enable_all()
            .build()
            .map(|runtime| Self { runtime })
            .map_err(ClusterError::Runtime)
    }

    /// Stops `link` (its tasks end) and then `runtime`'s threads, once: what
    /// an actor's or learner's close and drop both do.
    pub(crate) fn stop(link: &Link, runtime: &mut Option<Runtime>) {
        link.stop();
        if let Some(runtime) = runtime.take() {
            runtime.shutdown();
        }
    }

    /// Runs `future` to its end on the calling thread (never a runtime thread).
    pub(crate) fn block_on<F: Future>(&self, future: F) -> F::Output {
        self.runtime.block_on(future)
    }

    /// Runs `future` on the runtime until it ends or the link stops.
    pub(crate) fn spawn<F>(&self, link: &Link, future: F)
    where
        F: Future<Output = ()> + Send + 'static,
    {
        let link = link.clone();
        self.runtime.spawn(async move {
            tokio::select! {
                () = future => {}
                () = link.stopped() => {}
            }
        });
    }

    /// Stops every task (their channel ends close) and the runtime's threads.
    pub(crate) fn shutdown(self) {
        self.runtime.shutdown_timeout(Duration::from_secs(1));
    }
}

/// What the tasks of one connection share.
#[derive(Clone, Debug)]
pub(crate) struct Link {
    inner: Arc<LinkInner>,
}

#[derive(Debug)]
struct LinkInner {
    /// The server's URL without its password, for messages.
    url: String,
    failure: Mutex<Option<String>>,
    /// Set on failure or at the end of a close: every task stops.
    stop: watch::Sender<bool>,
    /// Set when a close begins: tasks finish what they hold and take nothing new.
    closing: watch::Sender<bool>,
    /// Counts the client's (re)connections, for tasks that start afresh after one.
    connections: watch::Sender<u64>,
}

impl Link {
    pub(crate) fn new(url: String) -> Self {
        Self {
            inner: Arc::new(LinkInner {
                url,
                failure: Mutex::new(None),
                stop: watch::Sender::new(false),
                closing: watch::Sender::new(false),
                connections: watch::Sender::new(0),
            }),
        }
    }

    /// The server's URL without its password.
    pub(crate) fn url(&self) -> &str {
        &self.inner.url
    }

    /// Gives up: records `reason` (the first one stays), says so on stderr and stops every task.
    pub(crate) fn fail(&self, reason: String) {
        let mut failure = self
            .inner
            .failure
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if failure.is_none() {
            eprintln!("az: giving up the link to {}: {reason}", self.inner.url);
            *failure = Some(reason);
        }
        drop(failure);
        self.inner.stop.send_replace(true);
    }

    pub(crate) fn failure(&self) -> Option<String> {
        self.inner
            .failure
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Stops every task without a failure (the end of a close).
    pub(crate) fn stop(&self) {
        self.inner.stop.send_replace(true);
    }

    /// Resolves once the link stops.
    pub(crate) async fn stopped(&self) {
        let mut stop = self.inner.stop.subscribe();
        // The sender lives in `self`, so `wait_for` only ends when the value turns true.
        let _ = stop.wait_for(|&stopped| stopped).await;
    }

    pub(crate) fn begin_close(&self) {
        self.inner.closing.send_replace(true);
    }

    pub(crate) fn is_closing(&self) -> bool {
        *self.inner.closing.borrow()
    }

    /// Resolves once a close begins.
    pub(crate) async fn closing(&self) {
        let mut closing = self.inner.closing.subscribe();
        let _ = closing.wait_for(|&closing| closing).await;
    }

    /// Records that the client (re)connected.
    pub(crate) fn connected(&self) {
        self.inner.connections.send_modify(|count| *count += 1);
    }

    /// Changes with each (re)connection after this call (`changed().await`).
    pub(crate) fn connections(&self) -> watch::Receiver<u64> {
        self.inner.connections.subscribe()
    }

    /// The error for a call made after the link gave up, if it did.
    pub(crate) fn check(&self) -> Result<(), ClusterError> {
        match self.failure() {
            Some(reason) => Err(ClusterError::Closed {
                url: self.inner.url.clone(),
                reason,
            }),
            None => Ok(()),
        }
    }
}

/// One line on stderr when an activity starts failing and one when it works again, however
/// many retries lie between (each activity retries on its own with [`backoff`]).
#[derive(Debug)]
pub(crate) struct Notice {
    what: String,
    url: String,
    failing: AtomicBool,
}

impl Notice {
    pub(crate) fn new(what: impl Into<String>, link: &Link) -> Self {
        Self {
            what: what.into(),
            url: link.url().to_owned(),
            failing: AtomicBool::new(false),
        }
    }

    pub(crate) fn failed(&self, error: &dyn std::fmt::Display) {
        if !self.failing.swap(true, Ordering::Relaxed) {
            eprintln!(
                "az: {} at {} failed: {error}; retrying",
                self.what, self.url
            );
        }
    }

    pub(crate) fn worked(&self) {
        if self.failing.swap(false, Ordering::Relaxed) {
            eprintln!("az: {} at {} works again", self.what, self.url);
        }
    }
}

/// Wait before retry `attempt` (from 0): 100 ms doubling to 2 s.
pub(crate) fn backoff(attempt: u32) -> Duration {
    Duration::from_millis(100u64 << attempt.min(5)).min(Duration::from_secs(2))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_to_two_seconds() {
        assert_eq!(backoff(0), Duration::from_millis(100));
        assert_eq!(backoff(1), Duration::from_millis(200));
        assert_eq!(backoff(4), Duration::from_millis(1600));
        assert_eq!(backoff(5), Duration::from_secs(2));
        assert_eq!(backoff(40), Duration::from_secs(2));
    }
}
