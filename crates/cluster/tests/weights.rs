//! Weights from the learner to actors: object plus key `latest`, newest wins, old objects pruned.

mod common;

use async_nats::jetstream;
use az_cluster::{Actor, ClusterConfig, Learner, OBJECT_PREFIX};
use az_record::remote::Weights;
use common::{config, server};
use futures_util::StreamExt;
use std::time::{Duration, Instant};

const NET: [usize; 7] = [3, 3, 3, 9, 2, 32, 32];

/// 2 MB of bytes that differ per step.
fn weights(step: u64) -> Weights {
    Weights {
        step,
        game: common::GAME.into(),
        net: NET.to_vec(),
        bytes: (0..2_000_000u64)
            .map(|i| (i.wrapping_mul(step + 1) >> 3) as u8)
            .collect(),
    }
}

/// The weights on `channel` until those of `step` come (within `limit`).
fn wait_for(channel: &flume::Receiver<Weights>, step: u64, limit: Duration) -> Weights {
    let deadline = Instant::now() + limit;
    loop {
        let got = channel
            .recv_deadline(deadline)
            .unwrap_or_else(|error| panic!("weights of step {step} never came: {error}"));
        if got.step == step {
            return got;
        }
        assert!(got.step < step, "steps only grow");
    }
}

/// Names of the weights objects in the store, through a client of the test's own.
fn object_names(config: &ClusterConfig) -> Vec<String> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let client = async_nats::connect(config.url.as_str()).await.unwrap();
        let store = jetstream::new(client)
            .get_object_store(&config.bucket)
            .await
            .unwrap();
        let mut list = store.list().await.unwrap();
        let mut names = Vec::new();
        while let Some(info) = list.next().await {
            names.push(info.unwrap().name);
        }
        names.sort();
        names
    })
}

#[test]
fn the_newest_weights_reach_actors_and_old_ones_are_pruned() {
    let Some(server) = server("weights") else {
        return;
    };
    let config = ClusterConfig {
        keep_weights: 2,
        ..config(&server.url())
    };
    let (early, early_channels) = Actor::connect(&config, 1).expect("actor connects");
    let started = Instant::now();
    assert_eq!(
        early.latest_weights(Duration::from_millis(300)).unwrap(),
        None
    );
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "the wait is bounded"
    );

    let (learner, learner_channels) = Learner::connect(&config).expect("learner connects");
    learner_channels.weights.send(weights(1)).unwrap();
    let first = wait_for(&early_channels.weights, 1, Duration::from_secs(20));
    assert_eq!(first, weights(1), "2 MB arrive whole");

    // Each step in turn: every one is uploaded, the older ones pruned.
    for step in 2..=4 {
        learner_channels.weights.send(weights(step)).unwrap();
        wait_for(&early_channels.weights, step, Duration::from_secs(20));
    }
    let names = |steps: &[u64]| -> Vec<String> {
        steps
            .iter()
            .map(|step| format!("{OBJECT_PREFIX}{step:010}"))
            .collect()
    };
    assert_eq!(
        object_names(&config),
        names(&[3, 4]),
        "the newest keep_weights stay"
    );

    // Faster than the actor takes them: the newest wins, on the channel and in the store.
    for step in 5..=8 {
        learner_channels.weights.send(weights(step)).unwrap();
    }
    let newest = wait_for(&early_channels.weights, 8, Duration::from_secs(30));
    assert_eq!(newest, weights(8));
    assert!(early_channels.weights.is_empty());
    assert_eq!(
        early.latest_weights(Duration::from_secs(5)).unwrap(),
        Some(weights(8))
    );

    // An actor that connects later finds the current weights at once.
    let (late, late_channels) = Actor::connect(&config, 2).expect("actor connects");
    assert_eq!(
        wait_for(&late_channels.weights, 8, Duration::from_secs(20)),
        weights(8)
    );
    learner.close(Duration::from_secs(10));
    let kept = object_names(&config);
    assert_eq!(kept.len(), 2, "{kept:?}");
    assert_eq!(kept.last(), names(&[8]).last(), "{kept:?}");
    assert_eq!(early.close(Duration::from_secs(1)), 0);
    assert_eq!(late.close(Duration::from_secs(1)), 0);
}
