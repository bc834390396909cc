//! Server behaviour: routing, shutdown in any order, deadline flush, hot swap.
//! Every test runs under a time limit, so a deadlock fails instead of hanging.

use az_infer::{Batch, BatchModel, Client, Server, ServerConfig};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// Runs `f` on a thread and fails if it does not finish within `secs`.
fn within<T: Send + 'static>(secs: u64, f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    rx.recv_timeout(Duration::from_secs(secs))
        .expect("timed out: deadlock or lost request")
}

/// value = first input of the row + offset; policy = the row's mask scaled by
/// its first input. Its output names its input, so misrouting shows.
#[derive(Clone, Debug)]
struct Echo {
    offset: f32,
    panic_after: Option<usize>,
    calls: usize,
}

impl BatchModel for Echo {
    fn input_len(&self) -> usize {
        2
    }
    fn num_actions(&self) -> usize {
        3
    }
    fn forward(
        &mut self,
        n: usize,
        inputs: &[f32],
        masks: &[f32],
        policy: &mut [f32],
        value: &mut [f32],
    ) {
        self.calls += 1;
        if self.panic_after.is_some_and(|k| self.calls > k) {
            panic!("model failure on purpose");
        }
        for i in 0..n {
            value[i] = inputs[2 * i] + self.offset;
            for a in 0..3 {
                policy[3 * i + a] = masks[3 * i + a] * inputs[2 * i + 1];
            }
        }
    }
}

fn config(
    max_batch: usize,
    deadline: Duration,
    threads: usize,
    max_outstanding: usize,
) -> ServerConfig {
    ServerConfig {
        max_batch,
        deadline,
        threads,
        max_outstanding,
        math_threads: 0,
    }
}

fn echo() -> Echo {
    Echo {
        offset: 0.0,
        panic_after: None,
        calls: 0,
    }
}

fn batch_of(ids: impl Iterator<Item = f32>, tag: u64) -> Batch {
    let mut b = Batch::new(2, 3, 8);
    for id in ids {
        let (input, mask) = b.push();
        input[0] = id;
        input[1] = id * 0.5;
        mask[1] = 1.0;
    }
    b.tag = tag;
    b
}

fn client_loop(client: Client, c: u64, rounds: u64) -> u64 {
    let mut answered = 0;
    for seq in 0..rounds {
        let (tx, rx) = flume::bounded(1);
        let len = 1 + (seq * 7 + c) % 40;
        let base = (c * 100_000 + seq * 100) as f32;
        let b = batch_of((0..len).map(|r| base + r as f32), seq);
        client.send(b, tx).unwrap();
        let back = rx.recv().unwrap();
        assert_eq!(back.tag, seq, "client {c}: answers out of order");
        assert_eq!(back.len() as u64, len);
        for r in 0..back.len() {
            let (policy, value) = back.output(r);
            let id = base + r as f32;
            assert_eq!(
                value, id,
                "client {c} round {seq} row {r}: got another row's answer"
            );
            assert_eq!(policy, [0.0, id * 0.5, 0.0]);
        }
        answered += 1;
        assert!(rx.try_recv().is_err(), "answered twice");
    }
    answered
}

#[test]
fn every_request_is_answered_once_by_the_right_rows() {
    within(60, || {
        for threads in [1, 3] {
            let cfg = config(64, Duration::from_millis(1), threads, 0);
            let (server, client) = Server::start(echo(), cfg);
            let handles: Vec<_> = (0..6)
                .map(|c| {
                    let client = client.clone();
                    std::thread::spawn(move || client_loop(client, c, 300))
                })
                .collect();
            drop(client);
            let answered: u64 = handles.into_iter().map(|h| h.join().unwrap()).sum();
            let stats = server.join().unwrap();
            assert_eq!(answered, 6 * 300);
            assert_eq!(stats.requests, 6 * 300);
            let positions: u64 = (0..6u64)
                .flat_map(|c| (0..300u64).map(move |s| 1 + (s * 7 + c) % 40))
                .sum();
            assert_eq!(stats.positions, positions);
            assert_eq!(stats.histogram.iter().sum::<u64>(), stats.batches);
            assert!(stats.histogram.len() == 65 && stats.histogram[0] == 0);
        }
    });
}

#[test]
fn oversized_requests_are_split_into_full_batches() {
    within(20, || {
        let cfg = config(16, Duration::from_millis(1), 1, 0);
        let (server, client) = Server::start(echo(), cfg);
        let back = client
            .evaluate(batch_of((0..50).map(|i| i as f32), 9))
            .unwrap();
        for r in 0..50 {
            assert_eq!(back.output(r).1, r as f32);
        }
        drop(client);
        let stats = server.join().unwrap();
        assert_eq!((stats.histogram[16], stats.histogram[2]), (3, 1));
    });
}

#[test]
fn deadline_flushes_a_lone_client() {
    within(20, || {
        let deadline = Duration::from_millis(30);
        let cfg = config(256, deadline, 1, 0);
        let (server, client) = Server::start(echo(), cfg);
        let t0 = Instant::now();
        let back = client.evaluate(batch_of([7.0].into_iter(), 0)).unwrap();
        assert!(t0.elapsed() >= deadline, "flushed before the deadline");
        assert_eq!(back.output(0).1, 7.0);
        drop(client);
        let stats = server.join().unwrap();
        assert_eq!((stats.batches, stats.histogram[1]), (1, 1));
    });
}

#[test]
fn clients_leaving_with_requests_in_flight_stop_the_server_cleanly() {
    within(20, || {
        let cfg = config(8, Duration::from_millis(5), 2, 0);
        let (server, client) = Server::start(echo(), cfg);
        // Send and leave without reading the answers; drop the reply receivers too.
        for i in 0..20 {
            let (tx, rx) = flume::bounded(1);
            client
                .send(batch_of([i as f32].into_iter(), i), tx)
                .unwrap();
            drop(rx);
        }
        drop(client);
        let stats = server.join().unwrap();
        assert_eq!(
            stats.requests, 20,
            "requests already sent are still answered"
        );
    });
}

#[test]
fn a_failing_model_disconnects_clients_instead_of_hanging_them() {
    within(20, || {
        let model = Echo {
            panic_after: Some(2),
            ..echo()
        };
        let cfg = config(4, Duration::from_millis(1), 1, 0);
        let (server, client) = Server::start(model, cfg);
        let mut errors = 0;
        for i in 0..10 {
            if client
                .evaluate(batch_of([i as f32].into_iter(), i))
                .is_err()
            {
                errors += 1;
            }
        }
        assert!(
            errors >= 8,
            "requests after the failure must fail, not hang"
        );
        drop(client);
        let err = server.join().unwrap_err();
        assert!(err.contains("model failure on purpose"), "{err}");
    });
}

#[test]
fn published_weights_are_used_from_the_next_batch() {
    within(20, || {
        let cfg = config(4, Duration::from_millis(1), 2, 0);
        let (server, client) = Server::start(echo(), cfg);
        let publisher = server.publisher();
        assert_eq!(
            client
                .evaluate(batch_of([1.0].into_iter(), 0))
                .unwrap()
                .output(0)
                .1,
            1.0
        );
        assert_eq!(
            publisher.publish(Echo {
                offset: 100.0,
                ..echo()
            }),
            1
        );
        for _ in 0..10 {
            assert_eq!(
                client
                    .evaluate(batch_of([1.0].into_iter(), 0))
                    .unwrap()
                    .output(0)
                    .1,
                101.0
            );
        }
        // The trainer may stop first: the server goes on with the last weights.
        drop(publisher);
        assert_eq!(
            client
                .evaluate(batch_of([2.0].into_iter(), 0))
                .unwrap()
                .output(0)
                .1,
            102.0
        );
        drop(client);
        assert!(server.join().unwrap().swaps >= 1);
    });
}

#[test]
fn holding_every_outstanding_request_runs_the_batch_without_waiting() {
    for threads in [1, 2] {
        within(20, move || {
            // A deadline of a minute: only the outstanding count can flush in time.
            let cfg = config(64, Duration::from_secs(60), threads, 2);
            let (server, client) = Server::start(echo(), cfg);
            for round in 0..20 {
                let (tx_a, rx_a) = flume::bounded(1);
                let (tx_b, rx_b) = flume::bounded(1);
                client
                    .send(batch_of([1.0, 2.0].into_iter(), round), tx_a)
                    .unwrap();
                client
                    .send(batch_of([3.0].into_iter(), round), tx_b)
                    .unwrap();
                assert_eq!(rx_a.recv().unwrap().output(1).1, 2.0);
                assert_eq!(rx_b.recv().unwrap().output(0).1, 3.0);
            }
            drop(client);
            let stats = server.join().unwrap();
            assert_eq!(stats.requests, 40);
            if threads == 1 {
                assert_eq!(stats.histogram[3], 20, "both requests in one batch");
            }
        });
    }
}

#[test]
fn requests_are_cut_into_full_passes() {
    within(20, || {
        // The self-play pattern: two requests in flight, the next one sent before
        // waiting for the older answer.
        let cfg = config(4, Duration::from_millis(200), 1, 2);
        let (server, client) = Server::start(echo(), cfg);
        let send = |k: u64| {
            let (tx, rx) = flume::bounded(1);
            let base = k as f32 * 10.0;
            client
                .send(batch_of((0..3).map(|i| base + i as f32), k), tx)
                .unwrap();
            rx
        };
        let mut in_flight = std::collections::VecDeque::from([(0, send(0)), (1, send(1))]);
        let rounds = 20;
        for next in 2..rounds + 2 {
            let (k, rx) = in_flight.pop_front().unwrap();
            let b = rx.recv().unwrap();
            assert_eq!(b.tag, k);
            for r in 0..3 {
                assert_eq!(
                    b.output(r).1,
                    k as f32 * 10.0 + r as f32,
                    "request {k} row {r}"
                );
            }
            if next < rounds {
                in_flight.push_back((next, send(next)));
            }
        }
        drop(client);
        let stats = server.join().unwrap();
        // 60 positions: full passes of 4 except at most the last flush.
        assert_eq!(stats.positions, 60);
        assert!(stats.histogram[4] >= 14, "{:?}", stats.histogram);
    });
}
