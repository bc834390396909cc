//! Where the server is and what the stream, buckets and consumer are called.

use crate::error::ClusterError;
use std::fmt;
use std::time::Duration;

/// How to reach the NATS server and what to call things there. `Debug` hides the password.
#[derive(Clone, PartialEq)]
pub struct ClusterConfig {
    /// Server URL, e.g. `nats://127.0.0.1:4222`; may carry `user:password@`.
    pub url: String,
    /// JetStream stream of the games, on subject `<stream>.games`.
    pub stream: String,
    /// Name of the KV bucket (key `latest`) and of the object store of the weights.
    pub bucket: String,
    /// The learner's durable pull consumer on the stream.
    pub consumer: String,
    /// `Game::NAME` of the experiment: in the stream's metadata and every message's headers.
    pub game: String,
    /// Stream limit in bytes (oldest games dropped beyond it).
    pub max_bytes: i64,
    /// Stream limit in age (older games dropped).
    pub max_age: Duration,
    /// How long the server remembers a `Nats-Msg-Id` to drop a re-sent game.
    pub duplicate_window: Duration,
    /// A delivered game not acknowledged (nor reported in progress) for this long is redelivered.
    pub ack_wait: Duration,
    /// Most games delivered to the learner and not yet acknowledged.
    pub max_ack_pending: i64,
    /// Weights objects kept in the object store (older ones deleted), at least 1.
    pub keep_weights: usize,
    /// How long `connect` waits for a server that is not up yet.
    pub connect_timeout: Duration,
}

impl Default for ClusterConfig {
    fn default() -> Self {
        Self {
            url: "nats://127.0.0.1:4222".into(),
            stream: "az".into(),
            bucket: "az".into(),
            consumer: "learner".into(),
            game: String::new(),
            max_bytes: 8 << 30,
            max_age: Duration::from_secs(30 * 24 * 3600),
            duplicate_window: Duration::from_secs(600),
            ack_wait: Duration::from_secs(60),
            max_ack_pending: 20_000,
            keep_weights: 4,
            connect_timeout: Duration::from_secs(30),
        }
    }
}

impl fmt::Debug for ClusterConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClusterConfig")
            .field("url", &self.shown_url())
            .field("stream", &self.stream)
            .field("bucket", &self.bucket)
            .field("consumer", &self.consumer)
            .field("game", &self.game)
            .field("max_bytes", &self.max_bytes)
            .field("max_age", &self.max_age)
            .field("duplicate_window", &self.duplicate_window)
            .field("ack_wait", &self.ack_wait)
            .field("max_ack_pending", &self.max_ack_pending)
            .field("keep_weights", &self.keep_weights)
            .field("connect_timeout", &self.connect_timeout)
            .finish()
    }
}

impl ClusterConfig {
    /// Subject of the games: `<stream>.games`.
    pub fn games_subject(&self) -> String {
        format!("{}.games", self.stream)
    }

    /// Subject of the actors' [`Reached`](az_record::remote::Reached) notes: `<stream>.reached`.
    pub fn reached_subject(&self) -> String {
        format!("{}.reached", self.stream)
    }

    /// The URL with its password replaced by `***`, for messages.
    pub fn shown_url(&self) -> String {
        shown_url(&self.url)
    }

    /// Checks names and limits before anything is sent.
    ///
    /// # Errors
    ///
    /// [`ClusterError::Config`] naming the field and what is wrong with it.
    pub fn validate(&self) -> Result<(), ClusterError> {
        let bad = |field: &str, why: String| {
            Err(ClusterError::Config {
                url: self.shown_url(),
                detail: format!("{field}: {why}"),
            })
        };
        for (field, name) in [
            ("stream", &self.stream),
            ("bucket", &self.bucket),
            ("consumer", &self.consumer),
        ] {
            if let Some(why) = name_problem(name) {
                return bad(field, format!("{name:?} {why}"));
            }
        }
        if self.game.is_empty() {
            return bad("game", "is empty".into());
        }
        if self.keep_weights == 0 {
            return bad("keep_weights", "must be at least 1".into());
        }
        if self.max_ack_pending < 1 {
            return bad("max_ack_pending", "must be at least 1".into());
        }
        for (field, value) in [
            ("ack_wait", self.ack_wait),
            ("duplicate_window", self.duplicate_window),
            ("max_age", self.max_age),
        ] {
            if value < Duration::from_secs(1) {
                return bad(field, format!("{value:?} is under a second"));
            }
        }
        if self.duplicate_window > self.max_age {
            return bad(
                "duplicate_window",
                format!(
                    "{:?} exceeds max_age {:?}",
                    self.duplicate_window, self.max_age
                ),
            );
        }
        Ok(())
    }
}

/// Why `name` cannot name a stream, bucket or consumer (JetStream allows letters, digits, `-`
/// and `_`), if it cannot.
fn name_problem(name: &str) -> Option<&'static str> {
    if name.is_empty() {
        Some("is empty")
    } else if !name
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        Some("may hold only letters, digits, '-' and '_'")
    } else {
        None
    }
}

/// `url` with the password of a `user:password@` part replaced by `***`.
pub(crate) fn shown_url(url: &str) -> String {
    let Some(scheme_end) = url.find("://").map(|i| i + 3) else {
        return url.to_owned();
    };
    let rest = &url[scheme_end..];
    let host_start = rest.find('/').unwrap_or(rest.len());
    let Some(at) = rest[..host_start].rfind('@') else {
        return url.to_owned();
    };
    match rest[..at].find(':') {
        Some(colon) => format!(
            "{}{}:***{}",
            &url[..scheme_end],
            &rest[..colon],
            &rest[at..]
        ),
        None => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_hidden() {
        assert_eq!(shown_url("nats://127.0.0.1:4222"), "nats://127.0.0.1:4222");
        assert_eq!(shown_url("nats://az:secret@h:4222"), "nats://az:***@h:4222");
        assert_eq!(shown_url("nats://token@h:4222"), "nats://token@h:4222");
        assert_eq!(shown_url("h:4222"), "h:4222");
        let config = ClusterConfig {
            url: "nats://az:secret@h:4222".into(),
            ..ClusterConfig::default()
        };
        assert!(!format!("{config:?}").contains("secret"));
    }

    #[test]
    fn validation_names_the_field() {
        let ok = ClusterConfig {
            game: "connect4".into(),
            ..ClusterConfig::default()
        };
        assert!(ok.validate().is_ok());
        let bad = ClusterConfig {
            stream: "a.b".into(),
            ..ok.clone()
        };
        assert!(bad.validate().unwrap_err().to_string().contains("stream"));
        let bad = ClusterConfig {
            keep_weights: 0,
            ..ok
        };
        assert!(
            bad.validate()
                .unwrap_err()
                .to_string()
                .contains("keep_weights")
        );
    }
}
