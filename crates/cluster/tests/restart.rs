//! A server killed (SIGKILL) and started again on its port and store: actors and the learner
//! reconnect by themselves, no game is lost or stored twice.

mod common;

use async_nats::jetstream;
use az_cluster::{Actor, ClusterConfig, Learner};
use az_record::remote::{GameId, Weights};
use common::{config, game, server};
use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

const GAMES: u64 = 1000;
const ACTOR: u64 = 0x5eed;

/// Messages in the games stream, through a client of the test's own.
fn stored_messages(config: &ClusterConfig) -> u64 {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let client = async_nats::connect(config.url.as_str()).await.unwrap();
        let mut stream = jetstream::new(client)
            .get_stream(&config.stream)
            .await
            .unwrap();
        stream.info().await.unwrap().state.messages
    })
}

#[test]
fn a_restarted_server_loses_and_doubles_no_game() {
    let Some(mut server) = server("server restart") else {
        return;
    };
    let config = config(&server.url());
    let (learner, learner_channels) = Learner::connect(&config).expect("learner connects");
    let (actor, actor_channels) = Actor::connect(&config, ACTOR).expect("actor connects");

    // The learner's side: every delivery acknowledged at once.
    let receiving = std::thread::spawn(move || {
        let deadline = Instant::now() + Duration::from_secs(90);
        let mut tags = BTreeMap::<u64, GameId>::new();
        let mut ids = BTreeSet::new();
        while (ids.len() as u64) < GAMES {
            let Ok(delivery) = learner_channels.deliveries.recv_deadline(deadline) else {
                break;
            };
            let id = delivery.game.id;
            assert_eq!(delivery.game, game(ACTOR, id.seq));
            if let Some(earlier) = tags.insert(delivery.tag, id) {
                assert_eq!(earlier, id, "a tag is one game");
            }
            ids.insert(id);
            learner_channels.acks.send(vec![delivery.tag]).unwrap();
        }
        (tags, ids, learner, learner_channels)
    });

    let sending = {
        let games = actor_channels.games.clone();
        std::thread::spawn(move || {
            for seq in 0..GAMES {
                games.send(game(ACTOR, seq)).unwrap();
                if seq % 100 == 0 {
                    std::thread::sleep(Duration::from_millis(5));
                }
            }
        })
    };
    let deadline = Instant::now() + Duration::from_secs(90);
    let mut stored = BTreeSet::new();
    let mut restarted = false;
    while (stored.len() as u64) < GAMES {
        let id = actor_channels
            .stored
            .recv_deadline(deadline)
            .unwrap_or_else(|_| panic!("{} of {GAMES} games stored", stored.len()));
        stored.insert(id);
        if !restarted && stored.len() == 100 {
            server.kill();
            std::thread::sleep(Duration::from_millis(1500));
            server.restart().expect("the server starts again");
            restarted = true;
        }
    }
    sending.join().unwrap();
    let (tags, ids, learner, learner_channels) = receiving.join().unwrap();
    assert_eq!(ids.len() as u64, GAMES, "every game delivered");
    assert_eq!(tags.len() as u64, GAMES, "each game stored once");
    assert_eq!(
        stored_messages(&config),
        GAMES,
        "the stream holds each game once"
    );

    // Weights still travel after the restart (the actor's watch of key `latest` recovered).
    let weights = Weights {
        step: 1,
        game: common::GAME.into(),
        net: vec![1; 7],
        bytes: vec![7; 1000],
    };
    learner_channels.weights.send(weights.clone()).unwrap();
    let got = actor_channels
        .weights
        .recv_timeout(Duration::from_secs(30))
        .expect("weights after the restart");
    assert_eq!(got, weights);
    assert_eq!(actor.failure(), None);
    assert_eq!(actor.close(Duration::from_secs(5)), 0);
    learner.close(Duration::from_secs(5));
}

#[test]
fn close_counts_the_games_never_acknowledged() {
    let Some(mut server) = server("unacknowledged games") else {
        return;
    };
    let config = config(&server.url());
    let (actor, channels) = Actor::connect(&config, ACTOR).expect("actor connects");
    channels.games.send(game(ACTOR, 0)).unwrap();
    channels
        .stored
        .recv_timeout(Duration::from_secs(10))
        .expect("stored while the server is up");
    server.kill();
    for seq in 1..=10 {
        channels.games.send(game(ACTOR, seq)).unwrap();
    }
    let started = Instant::now();
    assert_eq!(actor.close(Duration::from_millis(500)), 10);
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "close is bounded"
    );
}
