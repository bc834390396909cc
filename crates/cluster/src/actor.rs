//! An actor's end: games to the stream, weights from the bucket, switches reported.

use crate::config::ClusterConfig;
use crate::connect::{Opened, ensure_stream, open};
use crate::error::ClusterError;
use crate::games::to_message;
use crate::runtime::{Link, Notice, Runtime, backoff};
use crate::weights::{self, LATEST_KEY, Missing, Pointer};
use async_nats::Client;
use async_nats::jetstream::Context;
use async_nats::jetstream::context::PublishErrorKind;
use async_nats::jetstream::kv;
use async_nats::jetstream::message::PublishMessage;
use async_nats::jetstream::object_store::ObjectStore;
use az_record::remote::{ActorChannels, GameId, Reached, Shipped, Weights};
use flume::{Receiver, Sender};
use futures_util::StreamExt;
use futures_util::stream::FuturesUnordered;
use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// Games waiting between the actor and the publishing task.
const GAMES_CAPACITY: usize = 256;
/// Games published and waiting for their acknowledgement at once.
const IN_FLIGHT: usize = 64;

/// An actor's connection to the server; its tasks run until [`Actor::close`] or a failure.
pub struct Actor {
    runtime: Option<Runtime>,
    link: Link,
    id: u64,
    kv: kv::Store,
    objects: ObjectStore,
    bucket: String,
    /// A second sender of the games channel, to count what is left at the close (a receiver
    /// would keep the channel open after the publishing task is gone).
    games: Sender<Shipped>,
    /// Games taken from the channel and not yet acknowledged by the stream.
    outstanding: Arc<AtomicUsize>,
}

impl fmt::Debug for Actor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Actor")
            .field("url", &self.link.url())
            .field("id", &format_args!("{:016x}", self.id))
            .field("outstanding", &self.outstanding.load(Ordering::Relaxed))
            .finish_non_exhaustive()
    }
}

impl Actor {
    /// Connects (waiting up to `config.connect_timeout` for the server), makes the stream, the
    /// KV bucket and the object store if they are absent, and starts the tasks behind the
    /// returned channels:
    ///
    /// - `games` (capacity 256): each game is published to `<stream>.games` with its id as
    ///   `Nats-Msg-Id` and retried with the same id until the stream acknowledges it;
    /// - `stored` (unbounded, so publishing never waits for its reader; drop the receiver if
    ///   unwanted): the id of each game the stream acknowledged;
    /// - `weights` (capacity 1, the newest wins): each weights the learner publishes, as it
    ///   published them (the caller checks their game and network);
    /// - `reached`: switches to new weights, for the learner.
    ///
    /// # Errors
    ///
    /// No server within the timeout, credentials refused, JetStream off, a stream of another
    /// game, a bucket that cannot be made.
    pub fn connect(
        config: &ClusterConfig,
        actor_id: u64,
    ) -> Result<(Actor, ActorChannels), ClusterError> {
        config.validate()?;
        let link = Link::new(config.shown_url());
        let runtime = Runtime::new("actor")?;
        let Opened {
            client,
            js,
            kv,
            objects,
        } = runtime.block_on(open(config, &link, "actor", false))?;

        let (games_tx, games_rx) = flume::bounded(GAMES_CAPACITY);
        let (stored_tx, stored_rx) = flume::unbounded();
        let (weights_tx, weights_rx) = flume::bounded(1);
        let (reached_tx, reached_rx) = flume::unbounded();
        let outstanding = Arc::new(AtomicUsize::new(0));

        let shipper = Shipper {
            js,
            config: Arc::new(config.clone()),
            link: link.clone(),
            stored: stored_tx,
            outstanding: Arc::clone(&outstanding),
            notice: Arc::new(Notice::new("storing games", &link)),
        };
        runtime.spawn(&link, shipper.run(games_rx));
        runtime.spawn(
            &link,
            watch_weights(
                kv.clone(),
                objects.clone(),
                weights_tx,
                weights_rx.clone(),
                link.clone(),
            ),
        );
        runtime.spawn(
            &link,
            report_reached(client, config.reached_subject(), reached_rx),
        );

        let actor = Actor {
            runtime: Some(runtime),
            link,
            id: actor_id,
            kv,
            objects,
            bucket: config.bucket.clone(),
            games: games_tx.clone(),
            outstanding,
        };
        let channels = ActorChannels {
            weights: weights_rx,
            games: games_tx,
            stored: stored_rx,
            reached: reached_tx,
        };
        Ok((actor, channels))
    }

    /// The newest published weights, waiting up to `wait` for some to be published;
    /// `Ok(None)` if none were.
    ///
    /// # Errors
    ///
    /// The link gave up, or reading failed until `wait` ran out (the server away).
    pub fn latest_weights(&self, wait: Duration) -> Result<Option<Weights>, ClusterError> {
        self.link.check()?;
        let runtime = self
            .runtime
            .as_ref()
            .expect("the runtime lives until close");
        let deadline = Instant::now() + wait;
        let mut attempt = 0;
        runtime.block_on(async {
            loop {
                let error = match weights::latest(&self.kv, &self.objects).await {
                    Ok(Some(weights)) => return Ok(Some(weights)),
                    Ok(None) => None,
                    Err(error) => Some(error),
                };
                self.link.check()?;
                let left = deadline.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    return match error {
                        None => Ok(None),
                        Some(detail) => Err(ClusterError::Weights {
                            url: self.link.url().to_owned(),
                            bucket: self.bucket.clone(),
                            detail,
                        }),
                    };
                }
                tokio::time::sleep(left.min(backoff(attempt))).await;
                attempt += 1;
            }
        })
    }

    /// Why the link gave up, if it did; its channels are closed then.
    pub fn failure(&self) -> Option<String> {
        self.link.failure()
    }

    /// Stops taking games (those already queued are still published), waits up to `grace`
    /// for the stream to acknowledge every game, then disconnects. Returns how many games
    /// were never acknowledged (their ids never came on `stored`).
    pub fn close(mut self, grace: Duration) -> usize {
        self.link.begin_close();
        let deadline = Instant::now() + grace;
        let left = loop {
            let left = self.outstanding.load(Ordering::SeqCst) + self.games.len();
            if left == 0 || Instant::now() >= deadline || self.link.failure().is_some() {
                break left;
            }
            std::thread::sleep(Duration::from_millis(5));
        };
        self.shutdown();
        left
    }

    fn shutdown(&mut self) {
        Runtime::stop(&self.link, &mut self.runtime);
    }
}

impl Drop for Actor {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// The games task: publishes each game, many at once, until the stream acknowledges it.
struct Shipper {
    js: Context,
    config: Arc<ClusterConfig>,
    link: Link,
    stored: Sender<GameId>,
    outstanding: Arc<AtomicUsize>,
    notice: Arc<Notice>,
}

impl Shipper {
    async fn run(self, games: Receiver<Shipped>) {
        let subject = self.config.games_subject();
        let mut in_flight = FuturesUnordered::new();
        let mut closing = false;
        loop {
            if closing {
                // Publish what was queued before the close, then finish what is in flight.
                while let Ok(game) = games.try_recv() {
                    in_flight.push(self.store(subject.clone(), game));
                }
                while in_flight.next().await.is_some() {}
                return;
            }
            tokio::select! {
                Some(()) = in_flight.next(), if !in_flight.is_empty() => {}
                game = games.recv_async(), if in_flight.len() < IN_FLIGHT => match game {
                    Ok(game) => in_flight.push(self.store(subject.clone(), game)),
                    // The actor dropped its sender: finish what is in flight.
                    Err(_) => closing = true,
                },
                () = self.link.closing() => closing = true,
            }
        }
    }

    /// Publishes one game until it is acknowledged (a duplicate's acknowledgement included).
    fn store(&self, subject: String, game: Shipped) -> impl Future<Output = ()> + use<> {
        self.outstanding.fetch_add(1, Ordering::SeqCst);
        let id = game.id;
        let message: PublishMessage = to_message(game);
        let js = self.js.clone();
        let config = Arc::clone(&self.config);
        let link = self.link.clone();
        let stored = self.stored.clone();
        let outstanding = Arc::clone(&self.outstanding);
        let notice = Arc::clone(&self.notice);
        async move {
            let mut attempt = 0;
            loop {
                let result = match js.send_publish(subject.clone(), message.clone()).await {
                    Ok(ack) => ack.await,
                    Err(error) => Err(error),
                };
                match result {
                    Ok(_) => {
                        notice.worked();
                        // Nobody reading `stored` is fine: the send only fails once the
                        // receiver is gone.
                        let _ = stored.send(id);
                        outstanding.fetch_sub(1, Ordering::SeqCst);
                        return;
                    }
                    Err(error) if error.kind() == PublishErrorKind::MaxPayloadExceeded => {
                        link.fail(format!("game {id} is too large to store: {error}"));
                        return;
                    }
                    Err(error) if error.kind() == PublishErrorKind::StreamNotFound => {
                        notice.failed(&format_args!("no stream takes {subject}"));
                        // The server lost its store: make the stream again.
                        if let Err(
                            error @ (ClusterError::OtherGame { .. }
                            | ClusterError::ForeignStream { .. }),
                        ) = ensure_stream(&js, &config, &link, false).await
                        {
                            link.fail(error.to_string());
                            return;
                        }
                    }
                    Err(error) => notice.failed(&error),
                }
                tokio::time::sleep(backoff(attempt)).await;
                attempt += 1;
            }
        }
    }
}

/// Follows key `latest`: each new value's object goes to `weights`, replacing one the actor
/// has not taken yet. An object pruned before it downloads is skipped (newer weights follow).
async fn watch_weights(
    store: kv::Store,
    objects: ObjectStore,
    weights: Sender<Weights>,
    untaken: Receiver<Weights>,
    link: Link,
) {
    let notice = Notice::new("following the published weights", &link);
    let mut seen = 0;
    let mut attempt = 0;
    loop {
        // A restarted server forgets the watch's consumer: watch afresh after a reconnection
        // rather than wait for missed heartbeats.
        let mut connections = link.connections();
        // From the current value on; after an error, again from it (revisions seen skipped).
        let mut watch = match store.watch_with_history(LATEST_KEY).await {
            Ok(watch) => watch,
            Err(error) => {
                notice.failed(&error);
                tokio::time::sleep(backoff(attempt)).await;
                attempt += 1;
                continue;
            }
        };
        loop {
            let entry = tokio::select! {
                entry = watch.next() => entry,
                _ = connections.changed() => break,
            };
            let Some(entry) = entry else { break };
            let entry = match entry {
                Ok(entry) => entry,
                Err(error) => {
                    notice.failed(&error);
                    break;
                }
            };
            notice.worked();
            attempt = 0;
            if entry.revision <= seen || entry.operation != kv::Operation::Put {
                continue;
            }
            seen = entry.revision;
            let pointer = match Pointer::parse(&entry.value) {
                Ok(pointer) => pointer,
                Err(error) => {
                    eprintln!(
                        "az: ignoring the weights pointer at {}: {error}",
                        link.url()
                    );
                    continue;
                }
            };
            let Some(new) = fetch(&objects, &pointer, &notice).await else {
                continue;
            };
            while untaken.try_recv().is_ok() {}
            if weights.try_send(new).is_err() && weights.is_disconnected() {
                return;
            }
        }
        tokio::time::sleep(backoff(attempt)).await;
        attempt += 1;
    }
}

/// Downloads `pointer`'s object, retrying while the server is away; `None` if it is gone.
async fn fetch(objects: &ObjectStore, pointer: &Pointer, notice: &Notice) -> Option<Weights> {
    let mut attempt = 0;
    loop {
        match weights::download(objects, pointer).await {
            Ok(weights) => return Some(weights),
            Err(Missing::Gone) => return None,
            Err(Missing::Failed(error)) => notice.failed(&error),
        }
        tokio::time::sleep(backoff(attempt)).await;
        attempt += 1;
    }
}

/// Sends each [`Reached`] as 16 bytes (actor, step; little-endian) on `<stream>.reached`.
async fn report_reached(client: Client, subject: String, reached: Receiver<Reached>) {
    while let Ok(Reached { actor, step }) = reached.recv_async().await {
        let mut bytes = Vec::with_capacity(16);
        bytes.extend_from_slice(&actor.to_le_bytes());
        bytes.extend_from_slice(&step.to_le_bytes());
        // Core NATS, at most once: a lost note only delays the learner's statistics.
        let _ = client.publish(subject.clone(), bytes.into()).await;
    }
}
