//! Connecting (a bounded wait for a server still starting), checking JetStream, and making
//! the stream, the KV bucket and the object store if they are absent.

use crate::config::ClusterConfig;
use crate::error::ClusterError;
use crate::runtime::Link;
use async_nats::jetstream::{self, kv, object_store, stream};
use async_nats::{Client, ConnectErrorKind, ConnectOptions, Event, ServerAddr};
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// The stream metadata key that records the game.
pub(crate) const GAME_METADATA: &str = "az.game";

/// Connects to `config.url`, retrying until `connect_timeout` while nothing answers (with one
/// line on stderr), then checks that JetStream is on.
pub(crate) async fn connect(
    config: &ClusterConfig,
    link: &Link,
    role: &str,
) -> Result<(Client, jetstream::Context), ClusterError> {
    let url = link.url().to_owned();
    let address: ServerAddr = config.url.parse().map_err(|error| ClusterError::BadUrl {
        url: url.clone(),
        detail: format!("{error}"),
    })?;
    let credentials = address
        .username()
        .map(|user| (decode(user), decode(address.password().unwrap_or(""))));
    let deadline = Instant::now() + config.connect_timeout;
    let lost = Arc::new(AtomicBool::new(false));
    let mut told = false;
    let client = loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let mut options = options(link, role, &lost)
            .connection_timeout(left.clamp(Duration::from_millis(500), Duration::from_secs(5)));
        if let Some((user, password)) = &credentials {
            options = options.user_and_password(user.clone(), password.clone());
        }
        let error = match options.connect(address.clone()).await {
            Ok(client) => break client,
            Err(error) => error,
        };
        let detail = format!("{error}");
        match error.kind() {
            ConnectErrorKind::AuthorizationViolation | ConnectErrorKind::Authentication => {
                return Err(ClusterError::Unauthorised { url, detail });
            }
            ConnectErrorKind::ServerParse => return Err(ClusterError::BadUrl { url, detail }),
            ConnectErrorKind::Tls => return Err(ClusterError::Connect { url, detail }),
            ConnectErrorKind::Io
            | ConnectErrorKind::TimedOut
            | ConnectErrorKind::Dns
            | ConnectErrorKind::MaxReconnects => {
                if left.is_zero() {
                    return Err(ClusterError::NoServer {
                        url,
                        waited: config.connect_timeout,
                        detail,
                    });
                }
                if !told {
                    eprintln!(
                        "az: waiting for the NATS server at {url} (up to {:?})",
                        config.connect_timeout
                    );
                    told = true;
                }
                tokio::time::sleep(left.min(Duration::from_millis(250))).await;
            }
        }
    };
    let js = jetstream::new(client.clone());
    if let Err(error) = js.query_account().await {
        use jetstream::context::AccountErrorKind;
        let detail = format!("{error}");
        return Err(match error.kind() {
            AccountErrorKind::JetStreamUnavailable => ClusterError::NoJetStream { url, detail },
            AccountErrorKind::JetStream(inner)
                if inner.error_code() == jetstream::ErrorCode::JETSTREAM_NOT_ENABLED
                    || inner.error_code()
                        == jetstream::ErrorCode::JETSTREAM_NOT_ENABLED_FOR_ACCOUNT =>
            {
                ClusterError::NoJetStream { url, detail }
            }
            _ => ClusterError::Setup {
                url,
                what: "JetStream account".into(),
                detail,
            },
        });
    }
    Ok((client, js))
}

/// Reconnects forever once connected (a restarted server is found again) and says on stderr
/// when the link drops and when it is back.
fn options(link: &Link, role: &str, lost: &Arc<AtomicBool>) -> ConnectOptions {
    let link = link.clone();
    let url = link.url().to_owned();
    let who = role.to_owned();
    let lost = Arc::clone(lost);
    ConnectOptions::new()
        .name(format!("az-{role}"))
        .max_reconnects(None)
        .ping_interval(Duration::from_secs(10))
        .reconnect_delay_callback(|attempts| {
            let doubled = 25u64 << attempts.min(6);
            Duration::from_millis(if attempts <= 1 { 0 } else { doubled.min(1000) })
        })
        .event_callback(move |event| {
            let link = link.clone();
            let url = url.clone();
            let who = who.clone();
            let lost = Arc::clone(&lost);
            async move {
                match event {
                    Event::Disconnected if !lost.swap(true, Ordering::Relaxed) => {
                        eprintln!("az: the {who} lost the NATS server at {url}; reconnecting");
                    }
                    Event::Connected => {
                        link.connected();
                        if lost.swap(false, Ordering::Relaxed) {
                            eprintln!("az: the {who} reconnected to the NATS server at {url}");
                        }
                    }
                    Event::ServerError(error) => {
                        eprintln!("az: the NATS server at {url} told the {who}: {error}");
                    }
                    Event::LameDuckMode => {
                        eprintln!("az: NATS server at {url} is shutting down (lame duck mode)");
                    }
                    Event::SlowConsumer(_) => {
                        eprintln!("az: the {who} reads too slowly from the NATS server at {url}")
                    }
                    _ => {}
                }
            }
        })
}

/// Percent-decoding of a URL's user or password.
fn decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let (Some(high), Some(low)) = (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                out.push((high * 16 + low) as u8);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The games stream as this experiment wants it.
fn stream_config(config: &ClusterConfig) -> stream::Config {
    stream::Config {
        name: config.stream.clone(),
        description: Some(format!("az self-play games of {}", config.game)),
        subjects: vec![config.games_subject()],
        storage: stream::StorageType::File,
        max_bytes: config.max_bytes,
        max_age: config.max_age,
        duplicate_window: config.duplicate_window,
        metadata: HashMap::from([(GAME_METADATA.to_owned(), config.game.clone())]),
        ..stream::Config::default()
    }
}

/// What both sides open: the connection, JetStream, the games stream (its limits
/// set by the learner, `update_limits`), the weights' KV bucket and object store.
pub(crate) struct Opened {
    pub client: Client,
    pub js: jetstream::Context,
    pub kv: kv::Store,
    pub objects: object_store::ObjectStore,
}

/// Connects as `role` and opens (making if absent) the stream and buckets.
///
/// # Errors
/// As [`connect`], [`ensure_stream`], [`ensure_kv`] and [`ensure_objects`].
pub(crate) async fn open(
    config: &ClusterConfig,
    link: &Link,
    role: &str,
    update_limits: bool,
) -> Result<Opened, ClusterError> {
    let (client, js) = connect(config, link, role).await?;
    ensure_stream(&js, config, link, update_limits).await?;
    let kv = ensure_kv(&js, config, link).await?;
    let objects = ensure_objects(&js, config, link).await?;
    Ok(Opened {
        client,
        js,
        kv,
        objects,
    })
}

/// Makes the games stream if it is absent; refuses one of another game. With `update_limits`
/// (the learner) an existing stream takes this config's limits.
pub(crate) async fn ensure_stream(
    js: &jetstream::Context,
    config: &ClusterConfig,
    link: &Link,
    update_limits: bool,
) -> Result<(), ClusterError> {
    let url = link.url().to_owned();
    let setup = |detail: String| ClusterError::Setup {
        url: url.clone(),
        what: format!("stream {}", config.stream),
        detail,
    };
    let wanted = stream_config(config);
    let existing = match js.get_stream(&config.stream).await {
        Ok(mut stream) => stream
            .info()
            .await
            .map_err(|error| setup(format!("{error}")))?
            .config
            .clone(),
        Err(error) if is_not_found(&error) => match js.create_stream(wanted.clone()).await {
            Ok(_) => return Ok(()),
            // Made meanwhile by another process, perhaps with other limits: look at it.
            Err(create) => match js.get_stream(&config.stream).await {
                Ok(stream) => stream.cached_info().config.clone(),
                Err(_) => return Err(setup(format!("{create}"))),
            },
        },
        Err(error) => return Err(setup(format!("{error}"))),
    };
    match existing.metadata.get(GAME_METADATA) {
        None => {
            return Err(ClusterError::ForeignStream {
                url,
                stream: config.stream.clone(),
            });
        }
        Some(theirs) if *theirs != config.game => {
            return Err(ClusterError::OtherGame {
                url,
                stream: config.stream.clone(),
                theirs: theirs.clone(),
                ours: config.game.clone(),
            });
        }
        Some(_) => {}
    }
    if !existing.subjects.contains(&config.games_subject()) {
        return Err(setup(format!(
            "its subjects {:?} lack {}",
            existing.subjects,
            config.games_subject()
        )));
    }
    let limits = |c: &stream::Config| (c.max_bytes, c.max_age, c.duplicate_window);
    if update_limits && limits(&existing) != limits(&wanted) {
        let updated = stream::Config {
            max_bytes: wanted.max_bytes,
            max_age: wanted.max_age,
            duplicate_window: wanted.duplicate_window,
            ..existing
        };
        js.update_stream(&updated)
            .await
            .map_err(|error| setup(format!("updating its limits: {error}")))?;
    }
    Ok(())
}

fn is_not_found(error: &jetstream::context::GetStreamError) -> bool {
    matches!(
        error.kind(),
        jetstream::context::GetStreamErrorKind::JetStream(inner)
            if inner.error_code() == jetstream::ErrorCode::STREAM_NOT_FOUND
    )
}

/// Opens the KV bucket of the `latest` key, making it if absent.
pub(crate) async fn ensure_kv(
    js: &jetstream::Context,
    config: &ClusterConfig,
    link: &Link,
) -> Result<kv::Store, ClusterError> {
    if let Ok(store) = js.get_key_value(&config.bucket).await {
        return Ok(store);
    }
    let created = js
        .create_key_value(kv::Config {
            bucket: config.bucket.clone(),
            description: format!("az: the newest weights of {}", config.game),
            history: 1,
            storage: stream::StorageType::File,
            ..kv::Config::default()
        })
        .await;
    match created {
        Ok(store) => Ok(store),
        // Made meanwhile by another process?
        Err(error) => js
            .get_key_value(&config.bucket)
            .await
            .map_err(|_| ClusterError::Setup {
                url: link.url().to_owned(),
                what: format!("KV bucket {}", config.bucket),
                detail: format!("{error}"),
            }),
    }
}

/// Opens the object store of the weights, making it if absent.
pub(crate) async fn ensure_objects(
    js: &jetstream::Context,
    config: &ClusterConfig,
    link: &Link,
) -> Result<object_store::ObjectStore, ClusterError> {
    if let Ok(store) = js.get_object_store(&config.bucket).await {
        return Ok(store);
    }
    let created = js
        .create_object_store(object_store::Config {
            bucket: config.bucket.clone(),
            description: Some(format!("az: weights of {}", config.game)),
            storage: stream::StorageType::File,
            ..object_store::Config::default()
        })
        .await;
    match created {
        Ok(store) => Ok(store),
        Err(error) => js
            .get_object_store(&config.bucket)
            .await
            .map_err(|_| ClusterError::Setup {
                url: link.url().to_owned(),
                what: format!("object store {}", config.bucket),
                detail: format!("{error}"),
            }),
    }
}

#[cfg(test)]
mod tests {
    use super::decode;

    #[test]
    fn credentials_are_percent_decoded() {
        assert_eq!(decode("a%40b"), "a@b");
        assert_eq!(decode("plain"), "plain");
        assert_eq!(decode("end%4"), "end%4");
        assert_eq!(decode("%zz"), "%zz");
    }
}
