//! Connect errors name what is wrong: no server, another game's stream, refused credentials,
//! JetStream off, bad settings.

mod common;

use az_cluster::{Actor, ClusterConfig, ClusterError, Learner, LocalServer};
use common::{config, have_server, server};
use std::net::TcpListener;
use std::time::{Duration, Instant};

#[test]
fn no_server_is_an_error_naming_the_url_after_the_timeout() {
    // A port nobody listens on (this needs no nats-server).
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let config = ClusterConfig {
        connect_timeout: Duration::from_secs(1),
        ..config(&format!("nats://127.0.0.1:{port}"))
    };
    let started = Instant::now();
    let error = Actor::connect(&config, 1).unwrap_err();
    let waited = started.elapsed();
    eprintln!("{error}");
    assert!(matches!(error, ClusterError::NoServer { .. }), "{error}");
    assert!(error.to_string().contains(&config.url), "{error}");
    assert!(waited >= Duration::from_millis(900), "waited {waited:?}");
    assert!(waited < Duration::from_secs(4), "waited {waited:?}");
}

#[test]
fn bad_settings_are_refused_before_connecting() {
    let config = ClusterConfig {
        stream: "az.games".into(),
        ..config("nats://127.0.0.1:1")
    };
    let error = Learner::connect(&config).unwrap_err();
    eprintln!("{error}");
    assert!(matches!(error, ClusterError::Config { .. }), "{error}");
    assert!(error.to_string().contains("stream"), "{error}");
}

#[test]
fn a_stream_of_another_game_is_refused() {
    let Some(server) = server("another game") else {
        return;
    };
    let a = ClusterConfig {
        game: "a".into(),
        ..config(&server.url())
    };
    let (actor, _channels) = Actor::connect(&a, 1).expect("the first game makes the stream");
    let b = ClusterConfig {
        game: "b".into(),
        ..a.clone()
    };
    for error in [
        Actor::connect(&b, 2).unwrap_err(),
        Learner::connect(&b).unwrap_err(),
    ] {
        eprintln!("{error}");
        assert!(matches!(error, ClusterError::OtherGame { .. }), "{error}");
        let message = error.to_string();
        for part in [&a.stream, "games of a", "not b", &server.url()] {
            assert!(message.contains(part), "{message} lacks {part}");
        }
    }
    // Its own game still connects, as often as it likes.
    let (learner, _channels) = Learner::connect(&a).expect("same game");
    learner.close(Duration::from_secs(1));
    actor.close(Duration::from_secs(1));
}

#[test]
fn wrong_credentials_fail_at_once_naming_the_url_not_the_password() {
    if !have_server("credentials") {
        return;
    }
    let server = LocalServer::builder()
        .user("az", "secret")
        .start()
        .expect("starting nats-server");
    let with = |user: &str| ClusterConfig {
        connect_timeout: Duration::from_secs(10),
        ..config(&format!("nats://{user}@127.0.0.1:{}", server.port()))
    };
    let started = Instant::now();
    let error = Actor::connect(&with("az:wrong"), 1).unwrap_err();
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "no retrying on refused credentials"
    );
    eprintln!("{error}");
    assert!(
        matches!(error, ClusterError::Unauthorised { .. }),
        "{error}"
    );
    let message = error.to_string();
    assert!(message.contains("authorisation failed"), "{message}");
    assert!(
        message.contains(&format!("az:***@127.0.0.1:{}", server.port())),
        "{message}"
    );
    assert!(!message.contains("wrong"), "{message}");

    let (actor, _channels) = Actor::connect(&with("az:secret"), 1).expect("right credentials");
    actor.close(Duration::from_secs(1));
}

#[test]
fn a_server_without_jetstream_is_named() {
    if !have_server("no JetStream") {
        return;
    }
    let server = LocalServer::builder()
        .without_jetstream()
        .start()
        .expect("starting nats-server");
    let error = Learner::connect(&config(&server.url())).unwrap_err();
    eprintln!("{error}");
    assert!(matches!(error, ClusterError::NoJetStream { .. }), "{error}");
    assert!(error.to_string().contains(&server.url()), "{error}");
}

#[test]
fn a_game_too_large_to_store_ends_the_link_and_closes_its_channels() {
    let Some(server) = server("too large a game") else {
        return;
    };
    let (actor, channels) = Actor::connect(&config(&server.url()), 1).expect("actor connects");
    let mut huge = common::game(1, 0);
    // Over the server's default max_payload of 1 MB.
    huge.payload = vec![0; 2 << 20];
    channels.games.send(huge).unwrap();
    assert_eq!(
        channels.stored.recv_timeout(Duration::from_secs(10)),
        Err(flume::RecvTimeoutError::Disconnected),
        "the link closes its channels"
    );
    let failure = actor.failure().expect("the link says why it gave up");
    eprintln!("{failure}");
    assert!(failure.contains("too large"), "{failure}");
    assert!(failure.contains(&format!("{:016x}-0", 1)), "{failure}");
    assert!(channels.games.send(common::game(1, 1)).is_err());
    let error = actor.latest_weights(Duration::from_secs(1)).unwrap_err();
    assert!(matches!(error, ClusterError::Closed { .. }), "{error}");
    assert_eq!(
        actor.close(Duration::from_secs(1)),
        1,
        "the game was never stored"
    );
}
