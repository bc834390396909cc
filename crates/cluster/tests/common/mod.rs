//! What the cluster tests share: a server or a loud skip, a config, games.

#![allow(dead_code)]

use az_cluster::{ClusterConfig, LocalServer};
use az_record::remote::{GameId, Shipped};
use std::io::Write;
use std::time::Duration;

/// Game name of the tests' streams.
pub const GAME: &str = "tictactoe";

/// Whether a nats-server binary is there; says so on the real stderr (not captured by the test
/// harness) when it is not, and fails instead when `AZ_NATS_REQUIRED` is set (CI).
pub fn have_server(test: &str) -> bool {
    if LocalServer::binary().is_some() {
        return true;
    }
    let message = format!(
        "no nats-server binary for the {test} test (set AZ_NATS_SERVER or run \
         tools/install-nats.sh)"
    );
    assert!(std::env::var_os("AZ_NATS_REQUIRED").is_none(), "{message}");
    let _ = writeln!(std::io::stderr(), "\n*** SKIPPED: {message} ***\n");
    false
}

/// A fresh server, or `None` (after a loud line) when there is no binary.
pub fn server(test: &str) -> Option<LocalServer> {
    have_server(test).then(|| LocalServer::start().expect("starting nats-server"))
}

/// Settings for `url` with short waits.
pub fn config(url: &str) -> ClusterConfig {
    ClusterConfig {
        url: url.to_owned(),
        stream: "games".into(),
        bucket: "weights".into(),
        consumer: "learner".into(),
        game: GAME.into(),
        max_bytes: 256 << 20,
        ack_wait: Duration::from_secs(2),
        connect_timeout: Duration::from_secs(5),
        ..ClusterConfig::default()
    }
}

/// Game `seq` of `actor`, its payload derived from its id.
pub fn game(actor: u64, seq: u64) -> Shipped {
    let id = GameId { actor, seq };
    Shipped {
        id,
        games: 1,
        game: GAME.into(),
        weights_step: seq / 10,
        positions: 5 + (seq % 5) as u32,
        payload: id.to_string().into_bytes().repeat(20),
    }
}
