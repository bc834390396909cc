//! What can go wrong between az and the NATS server; every message names the server (its URL
//! without the password) and the stream or bucket concerned.

use std::time::Duration;

/// Errors of [`Actor`](crate::Actor) and [`Learner`](crate::Learner).
#[derive(Debug, thiserror::Error)]
pub enum ClusterError {
    /// The configuration is unusable (a bad name, a zero limit).
    #[error("cluster settings for {url}: {detail}")]
    Config { url: String, detail: String },
    /// The URL does not parse.
    #[error("bad NATS server URL {url}: {detail}")]
    BadUrl { url: String, detail: String },
    /// Nothing answered at the URL within the connect timeout.
    #[error("no NATS server at {url} (waited {waited:?}): {detail}")]
    NoServer {
        url: String,
        waited: Duration,
        detail: String,
    },
    /// The server refused the credentials.
    #[error("authorisation failed at {url}: {detail} (check the user and password in the URL)")]
    Unauthorised { url: String, detail: String },
    /// Another connection failure (TLS and the like).
    #[error("connecting to the NATS server at {url}: {detail}")]
    Connect { url: String, detail: String },
    /// The server runs without JetStream.
    #[error("JetStream is not enabled on the NATS server at {url} (start it with -js): {detail}")]
    NoJetStream { url: String, detail: String },
    /// The stream holds another game's data.
    #[error(
        "stream {stream} at {url} holds games of {theirs}, not {ours}: use another stream name"
    )]
    OtherGame {
        url: String,
        stream: String,
        theirs: String,
        ours: String,
    },
    /// The stream exists but az did not make it.
    #[error(
        "stream {stream} at {url} was not made by az (no az.game in its metadata): use another stream name"
    )]
    ForeignStream { url: String, stream: String },
    /// Creating or opening a stream, bucket, object store or consumer failed.
    #[error("setting up {what} at {url}: {detail}")]
    Setup {
        url: String,
        what: String,
        detail: String,
    },
    /// Reading the published weights failed.
    #[error("reading weights from bucket {bucket} at {url}: {detail}")]
    Weights {
        url: String,
        bucket: String,
        detail: String,
    },
    /// The link gave up earlier (see `failure`).
    #[error("the link to {url} closed: {reason}")]
    Closed { url: String, reason: String },
    /// The transport's threads could not start.
    #[error("starting the NATS client runtime: {0}")]
    Runtime(#[source] std::io::Error),
}
