//! Games from an actor to learners: stored once per id, delivered once, acknowledged,
//! redelivered when not.

mod common;

use az_cluster::{Actor, ClusterConfig, Learner};
use az_record::remote::{Delivery, GameId, LearnerChannels, Reached};
use common::{config, game, server};
use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

const GAMES: u64 = 200;
const RESENT: u64 = 50;
const ACTOR: u64 = 0x00c0_ffee_0000_0001;

/// Deliveries until `want` distinct ids came (within `limit`), then whatever comes in a
/// short while more.
fn receive(channels: &LearnerChannels, want: usize, limit: Duration) -> Vec<Delivery> {
    let deadline = std::time::Instant::now() + limit;
    let mut got = Vec::new();
    let mut ids = BTreeSet::new();
    while ids.len() < want {
        let delivery = channels
            .deliveries
            .recv_deadline(deadline)
            .unwrap_or_else(|error| panic!("{} of {want} games delivered: {error}", ids.len()));
        ids.insert(delivery.game.id);
        got.push(delivery);
    }
    while let Ok(extra) = channels.deliveries.recv_timeout(Duration::from_millis(500)) {
        got.push(extra);
    }
    got
}

fn learner(config: &ClusterConfig) -> (Learner, LearnerChannels) {
    Learner::connect(config).expect("learner connects")
}

#[test]
fn games_are_stored_once_and_delivered_until_acknowledged() {
    let Some(server) = server("round trip") else {
        return;
    };
    let config = config(&server.url());
    let (actor, actor_channels) = Actor::connect(&config, ACTOR).expect("actor connects");
    let (first, first_channels) = learner(&config);

    for seq in 0..GAMES {
        actor_channels.games.send(game(ACTOR, seq)).unwrap();
    }
    // Re-sent games (an actor that lost track of its acknowledgements): the same ids.
    for seq in 0..RESENT {
        actor_channels.games.send(game(ACTOR, seq)).unwrap();
    }
    let mut stored = BTreeMap::<GameId, usize>::new();
    for _ in 0..GAMES + RESENT {
        let id = actor_channels
            .stored
            .recv_timeout(Duration::from_secs(20))
            .expect("every send is acknowledged");
        *stored.entry(id).or_default() += 1;
    }
    assert_eq!(stored.len() as u64, GAMES);

    // The learner hears an actor's switch to new weights.
    actor_channels
        .reached
        .send(Reached {
            actor: ACTOR,
            step: 7,
        })
        .unwrap();
    let reached = first_channels
        .reached
        .recv_timeout(Duration::from_secs(5))
        .expect("the switch reaches the learner");
    assert_eq!(
        reached,
        Reached {
            actor: ACTOR,
            step: 7
        }
    );

    let delivered = receive(&first_channels, GAMES as usize, Duration::from_secs(20));
    assert_eq!(delivered.len() as u64, GAMES, "each game delivered once");
    let mut tags = BTreeSet::new();
    for delivery in &delivered {
        assert_eq!(
            delivery.game,
            game(ACTOR, delivery.game.id.seq),
            "the game as shipped"
        );
        assert!(tags.insert(delivery.tag), "tags are distinct");
    }
    first_channels
        .acks
        .send(tags.iter().copied().collect())
        .unwrap();
    first.close(Duration::from_secs(5));
    assert_eq!(
        actor.close(Duration::from_secs(5)),
        0,
        "nothing left unacknowledged"
    );

    // The same consumer after the acknowledgements: nothing more.
    let (second, second_channels) = learner(&config);
    assert!(
        second_channels
            .deliveries
            .recv_timeout(config.ack_wait + Duration::from_secs(1))
            .is_err(),
        "acknowledged games are not delivered again"
    );
    second.close(Duration::from_secs(5));

    // Another consumer that never acknowledges: its next learner gets every game again.
    let other = ClusterConfig {
        consumer: "forgetful".into(),
        ..config.clone()
    };
    let (third, third_channels) = learner(&other);
    let unacknowledged = receive(&third_channels, GAMES as usize, Duration::from_secs(20));
    assert_eq!(unacknowledged.len() as u64, GAMES);
    third.close(Duration::from_secs(5));
    let (fourth, fourth_channels) = learner(&other);
    let again = receive(
        &fourth_channels,
        GAMES as usize,
        other.ack_wait + Duration::from_secs(20),
    );
    let ids: BTreeSet<GameId> = again.iter().map(|delivery| delivery.game.id).collect();
    assert_eq!(ids.len() as u64, GAMES, "unacknowledged games come again");
    fourth.close(Duration::from_secs(5));
}
