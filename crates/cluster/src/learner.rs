//! The learner's end: games from the durable consumer, acknowledgements back, weights out,
//! actors' switches in.

use crate::config::ClusterConfig;
use crate::connect::{Opened, ensure_stream, open};
use crate::error::ClusterError;
use crate::games::from_message;
use crate::runtime::{Link, Notice, Runtime, backoff};
use crate::weights;
use async_nats::jetstream::consumer::{AckPolicy, DeliverPolicy, PullConsumer, pull};
use async_nats::jetstream::kv;
use async_nats::jetstream::object_store::ObjectStore;
use async_nats::jetstream::{AckKind, Context};
use async_nats::{Client, Subject, Subscriber};
use az_record::remote::{Delivery, LearnerChannels, Reached, Weights};
use bytes::Bytes;
use flume::{Receiver, Sender};
use futures_util::StreamExt;
use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

/// Deliveries waiting for the learner; beyond them games stay in the stream.
const DELIVERIES_CAPACITY: usize = 256;
/// Switch notes waiting for the learner; beyond them new ones are dropped.
const REACHED_CAPACITY: usize = 1024;
/// Messages asked of the server per pull request.
const PULL_BATCH: usize = 128;
/// The tasks that finish their work at a close: acknowledgements and weights.
const CLOSING_TASKS: usize = 2;

/// The learner's connection to the server; its tasks run until [`Learner::close`] or a failure.
pub struct Learner {
    runtime: Option<Runtime>,
    link: Link,
    client: Client,
    /// Tasks done with their work since the close began.
    finished: Arc<AtomicUsize>,
}

impl fmt::Debug for Learner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Learner")
            .field("url", &self.link.url())
            .finish_non_exhaustive()
    }
}

/// A delivered message not yet acknowledged: where its acknowledgement goes.
#[derive(Debug)]
struct Held {
    reply: Subject,
    /// When it came or was last reported in progress.
    since: Instant,
}

/// Delivered and unacknowledged messages by stream sequence (the delivery's tag).
type HeldMap = Arc<Mutex<HashMap<u64, Held>>>;

fn lock(held: &HeldMap) -> std::sync::MutexGuard<'_, HashMap<u64, Held>> {
    held.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Learner {
    /// Connects (waiting up to `config.connect_timeout` for the server), makes the stream
    /// (or gives an existing one this config's limits), the KV bucket, the object store and the
    /// durable consumer, and starts the tasks behind the returned channels:
    ///
    /// - `deliveries` (capacity 256; games the learner does not take stay in the stream): each
    ///   stored game, oldest first, its `tag` the message's stream sequence. A game of another
    ///   `Az-Game` is delivered all the same (the learner refuses it); a message whose headers
    ///   do not make a game is dropped from the consumer with a line on stderr. While a tag is
    ///   held, the server is told every `ack_wait / 3` that it is in progress, so games are
    ///   redelivered only when this learner is gone; after a restart the unacknowledged ones
    ///   come again (de-duplicate by [`GameId`](az_record::remote::GameId)).
    /// - `acks`: tags of games now safely on disk; acknowledge every tag, also of games
    ///   discarded, or they count against `max_ack_pending` for good.
    /// - `weights` (unbounded, drained to the newest before each upload): weights to publish.
    /// - `reached` (capacity 1024, newer notes dropped when full): actors' switches.
    ///
    /// # Errors
    ///
    /// No server within the timeout, credentials refused, JetStream off, a stream of another
    /// game, a bucket or consumer that cannot be made.
    pub fn connect(config: &ClusterConfig) -> Result<(Learner, LearnerChannels), ClusterError> {
        config.validate()?;
        let link = Link::new(config.shown_url());
        let runtime = Runtime::new("learner")?;
        let (client, js, kv, objects, consumer, subscription) = runtime.block_on(async {
            let Opened {
                client,
                js,
                kv,
                objects,
            } = open(config, &link, "learner", true).await?;
            let consumer =
                open_consumer(&js, config)
                    .await
                    .map_err(|detail| ClusterError::Setup {
                        url: link.url().to_owned(),
                        what: format!("consumer {} on stream {}", config.consumer, config.stream),
                        detail,
                    })?;
            // Subscribed before `connect` returns: no switch note sent after it is missed.
            let subscription =
                client
                    .subscribe(config.reached_subject())
                    .await
                    .map_err(|error| ClusterError::Setup {
                        url: link.url().to_owned(),
                        what: format!("subscription to {}", config.reached_subject()),
                        detail: format!("{error}"),
                    })?;
            Ok::<_, ClusterError>((client, js, kv, objects, consumer, subscription))
        })?;

        let (deliveries_tx, deliveries_rx) = flume::bounded(DELIVERIES_CAPACITY);
        let (acks_tx, acks_rx) = flume::unbounded();
        let (weights_tx, weights_rx) = flume::unbounded();
        let (reached_tx, reached_rx) = flume::bounded(REACHED_CAPACITY);
        let held = HeldMap::default();
        let finished = Arc::new(AtomicUsize::new(0));
        let config = Arc::new(config.clone());

        runtime.spawn(
            &link,
            deliver(
                js,
                Arc::clone(&config),
                link.clone(),
                consumer,
                Arc::clone(&held),
                deliveries_tx,
            ),
        );
        runtime.spawn(
            &link,
            acknowledge(
                client.clone(),
                acks_rx,
                Arc::clone(&held),
                link.clone(),
                Arc::clone(&finished),
            ),
        );
        runtime.spawn(
            &link,
            keep_in_progress(client.clone(), held, config.ack_wait),
        );
        runtime.spawn(
            &link,
            publish_weights(
                objects,
                kv,
                weights_rx,
                config.keep_weights,
                link.clone(),
                Arc::clone(&finished),
            ),
        );
        runtime.spawn(
            &link,
            forward_reached(
                client.clone(),
                subscription,
                config.reached_subject(),
                reached_tx,
                link.clone(),
            ),
        );

        let learner = Learner {
            runtime: Some(runtime),
            link,
            client,
            finished,
        };
        let channels = LearnerChannels {
            deliveries: deliveries_rx,
            acks: acks_tx,
            weights: weights_tx,
            reached: reached_rx,
        };
        Ok((learner, channels))
    }

    /// Why the link gave up, if it did; its channels are closed then.
    pub fn failure(&self) -> Option<String> {
        self.link.failure()
    }

    /// Stops taking games, acknowledges the tags already sent on `acks` and hands the other
    /// delivered games back to the stream (the next learner gets them at once), publishes the
    /// newest weights still queued, waiting up to `grace` for all that to reach the server,
    /// then disconnects.
    pub fn close(mut self, grace: Duration) {
        self.link.begin_close();
        let deadline = Instant::now() + grace;
        while self.finished.load(Ordering::SeqCst) < CLOSING_TASKS
            && Instant::now() < deadline
            && self.link.failure().is_none()
        {
            std::thread::sleep(Duration::from_millis(5));
        }
        if let Some(runtime) = &self.runtime {
            let left = deadline.saturating_duration_since(Instant::now());
            let client = self.client.clone();
            // Acknowledgements are plain publishes: the flush's round trip means the server
            // has read them.
            let _ =
                runtime.block_on(async move { tokio::time::timeout(left, client.flush()).await });
        }
        self.shutdown();
    }

    fn shutdown(&mut self) {
        Runtime::stop(&self.link, &mut self.runtime);
    }
}

impl Drop for Learner {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// The durable pull consumer, made or given this config's settings.
async fn open_consumer(js: &Context, config: &ClusterConfig) -> Result<PullConsumer, String> {
    let stream = js
        .get_stream_no_info(&config.stream)
        .await
        .map_err(|error| format!("{error}"))?;
    stream
        .create_consumer(pull::Config {
            durable_name: Some(config.consumer.clone()),
            description: Some(format!("az learner of {}", config.game)),
            deliver_policy: DeliverPolicy::All,
            ack_policy: AckPolicy::Explicit,
            ack_wait: config.ack_wait,
            // Unlimited redeliveries.
            max_deliver: -1,
            max_ack_pending: config.max_ack_pending,
            filter_subject: config.games_subject(),
            ..pull::Config::default()
        })
        .await
        .map_err(|error| format!("{error}"))
}

/// Pulls games and hands them to the learner, re-opening the consumer's message stream when it
/// ends or fails (a server restart, a lost connection).
async fn deliver(
    js: Context,
    config: Arc<ClusterConfig>,
    link: Link,
    consumer: PullConsumer,
    held: HeldMap,
    deliveries: Sender<Delivery>,
) {
    let notice = Notice::new(
        format!("receiving games from stream {}", config.stream),
        &link,
    );
    let mut consumer = Some(consumer);
    let mut attempt = 0;
    loop {
        if link.is_closing() {
            return;
        }
        let current = match consumer.take() {
            Some(current) => current,
            None => match reopen(&js, &config, &link).await {
                Ok(current) => current,
                Err(error) => {
                    notice.failed(&error);
                    tokio::time::sleep(backoff(attempt)).await;
                    attempt += 1;
                    continue;
                }
            },
        };
        let messages = current
            .stream()
            .max_messages_per_batch(PULL_BATCH)
            .expires(Duration::from_secs(30))
            .heartbeat(Duration::from_secs(5))
            .messages()
            .await;
        let mut messages = match messages {
            Ok(messages) => messages,
            Err(error) => {
                notice.failed(&error);
                tokio::time::sleep(backoff(attempt)).await;
                attempt += 1;
                continue;
            }
        };
        loop {
            let next = tokio::select! {
                next = messages.next() => next,
                () = link.closing() => return,
            };
            let message = match next {
                Some(Ok(message)) => message,
                Some(Err(error)) => {
                    notice.failed(&error);
                    break;
                }
                None => break,
            };
            notice.worked();
            attempt = 0;
            let Some(delivery) = take(&message, &held, &config) else {
                continue;
            };
            tokio::select! {
                sent = deliveries.send_async(delivery) => if sent.is_err() {
                    return;
                },
                () = link.closing() => return,
            }
        }
        tokio::time::sleep(backoff(attempt)).await;
        attempt += 1;
    }
}

/// The consumer again after its message stream failed: the stream (made again if the server
/// lost it, a fatal error if it now holds another game) and the durable consumer.
async fn reopen(js: &Context, config: &ClusterConfig, link: &Link) -> Result<PullConsumer, String> {
    match ensure_stream(js, config, link, true).await {
        Err(error @ (ClusterError::OtherGame { .. } | ClusterError::ForeignStream { .. })) => {
            link.fail(error.to_string());
            return Err(error.to_string());
        }
        Err(error) => return Err(error.to_string()),
        Ok(()) => {}
    }
    open_consumer(js, config).await
}

/// The delivery of `message`, recording where its acknowledgement goes; `None` for a message
/// already held (redelivered while the learner has it) or one that is not a game.
fn take(
    message: &async_nats::jetstream::Message,
    held: &HeldMap,
    config: &ClusterConfig,
) -> Option<Delivery> {
    let (Ok(info), Some(reply)) = (message.info(), message.reply.clone()) else {
        eprintln!(
            "az: ignoring a message of stream {} without JetStream metadata",
            config.stream
        );
        return None;
    };
    let tag = info.stream_sequence;
    match from_message(message) {
        Ok(game) => {
            let fresh = lock(held)
                .insert(
                    tag,
                    Held {
                        reply,
                        since: Instant::now(),
                    },
                )
                .is_none();
            fresh.then_some(Delivery { tag, game })
        }
        Err(why) => {
            eprintln!(
                "az: dropping message {tag} of stream {}: {why}",
                config.stream
            );
            let context = message.context.clone();
            tokio::spawn(async move {
                let _ = context
                    .client()
                    .publish(reply, Bytes::from(AckKind::Term))
                    .await;
            });
            None
        }
    }
}

/// Acknowledges each tag the learner sends back; at a close, those already sent.
async fn acknowledge(
    client: Client,
    acks: Receiver<Vec<u64>>,
    held: HeldMap,
    link: Link,
    finished: Arc<AtomicUsize>,
) {
    loop {
        let tags = if link.is_closing() {
            match acks.try_recv() {
                Ok(tags) => tags,
                Err(_) => break,
            }
        } else {
            tokio::select! {
                biased;
                tags = acks.recv_async() => match tags {
                    Ok(tags) => tags,
                    Err(_) => break,
                },
                () = link.closing() => continue,
            }
        };
        for tag in tags {
            let Some(Held { reply, .. }) = lock(&held).remove(&tag) else {
                continue;
            };
            // Lost only with the connection; then the game comes again after `ack_wait`
            // and the learner drops it as a duplicate.
            let _ = client.publish(reply, Bytes::from(AckKind::Ack)).await;
        }
    }
    // The learner closed its end (it stopped) or the link is closing: what it never
    // acknowledged goes to the next learner at once, not after `ack_wait`.
    {
        let left: Vec<Subject> = lock(&held).drain().map(|(_, held)| held.reply).collect();
        for reply in left {
            let _ = client.publish(reply, Bytes::from(AckKind::Nak(None))).await;
        }
    }
    finished.fetch_add(1, Ordering::SeqCst);
}

/// Tells the server every `ack_wait / 3` that the held games are in progress.
async fn keep_in_progress(client: Client, held: HeldMap, ack_wait: Duration) {
    let period = ack_wait / 3;
    let mut ticks = tokio::time::interval(period);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        let now = Instant::now();
        let due: Vec<Subject> = lock(&held)
            .values_mut()
            .filter(|entry| now.duration_since(entry.since) >= period)
            .map(|entry| {
                entry.since = now;
                entry.reply.clone()
            })
            .collect();
        for reply in due {
            let _ = client.publish(reply, Bytes::from(AckKind::Progress)).await;
        }
    }
}

/// Publishes the newest queued weights (object, then key `latest`, then pruning), retrying
/// until it succeeds or newer weights replace them; at a close, the newest still queued.
async fn publish_weights(
    objects: ObjectStore,
    store: kv::Store,
    weights: Receiver<Weights>,
    keep: usize,
    link: Link,
    finished: Arc<AtomicUsize>,
) {
    let notice = Notice::new("publishing weights", &link);
    loop {
        let next = if link.is_closing() {
            weights.try_recv().ok()
        } else {
            tokio::select! {
                biased;
                next = weights.recv_async() => next.ok(),
                () = link.closing() => continue,
            }
        };
        let Some(mut newest) = next else { break };
        let mut attempt = 0;
        loop {
            while let Ok(newer) = weights.try_recv() {
                newest = newer;
            }
            match weights::publish(&objects, &store, &newest, keep).await {
                Ok(()) => {
                    notice.worked();
                    break;
                }
                Err(error) => notice.failed(&error),
            }
            tokio::time::sleep(backoff(attempt)).await;
            attempt += 1;
        }
    }
    finished.fetch_add(1, Ordering::SeqCst);
}

/// Forwards the actors' switch notes (16 bytes: actor, step, little-endian).
async fn forward_reached(
    client: Client,
    subscription: Subscriber,
    subject: String,
    reached: Sender<Reached>,
    link: Link,
) {
    let notice = Notice::new(format!("subscribing to {subject}"), &link);
    let mut subscription = Some(subscription);
    let mut attempt = 0;
    loop {
        // The client renews a subscription after a reconnection by itself; one that ends is
        // made again.
        let mut current = match subscription.take() {
            Some(current) => current,
            None => match client.subscribe(subject.clone()).await {
                Ok(current) => current,
                Err(error) => {
                    notice.failed(&error);
                    tokio::time::sleep(backoff(attempt)).await;
                    attempt += 1;
                    continue;
                }
            },
        };
        notice.worked();
        while let Some(message) = current.next().await {
            let Ok(bytes) = <[u8; 16]>::try_from(message.payload.as_ref()) else {
                continue;
            };
            let (actor, step) = bytes.split_at(8);
            let note = Reached {
                actor: u64::from_le_bytes(actor.try_into().expect("8 bytes")),
                step: u64::from_le_bytes(step.try_into().expect("8 bytes")),
            };
            if let Err(flume::TrySendError::Disconnected(_)) = reached.try_send(note) {
                return;
            }
        }
        tokio::time::sleep(backoff(attempt)).await;
        attempt += 1;
    }
}
