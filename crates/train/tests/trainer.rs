//! The learner on the flex CPU backend: overfitting, NaN handling, checkpoints.

use az_model::NetConfig;
use az_replay::TrainBatch;
use az_train::{CheckpointError, CheckpointMeta, TrainConfig, TrainError, Trainer};
use burn::tensor::Device;
use std::path::PathBuf;

const NET: NetConfig = NetConfig {
    planes: 3,
    height: 6,
    width: 7,
    actions: 7,
    blocks: 1,
    channels: 8,
    value_hidden: 16,
    value_channels: 1,
    ownership: false,
};

/// A fixed batch: distinct inputs, one-hot policy targets, ±1 values.
fn dataset(n: usize) -> TrainBatch {
    let len = 3 * 42;
    let mut b = TrainBatch {
        n,
        ..TrainBatch::default()
    };
    for i in 0..n {
        // Pseudo-random planes: every sample clearly different.
        b.inputs
            .extend((0..len).map(|j| (((i * 7919 + j * 104_729) % 1009) % 2) as f32));
        let mut mask = vec![1.0; 7];
        mask[(i + 3) % 7] = 0.0;
        b.masks.extend(&mask);
        let mut pi = vec![0.0; 7];
        // A legal move as the target (the masked one is (i + 3) % 7).
        let target = if (i + 3) % 7 == i % 7 {
            (i + 1) % 7
        } else {
            i % 7
        };
        pi[target] = 1.0;
        b.policies.extend(&pi);
        b.values.push(if i % 2 == 0 { 1.0 } else { -1.0 });
    }
    b
}

fn config() -> TrainConfig {
    TrainConfig {
        learning_rate: 0.01,
        weight_decay: 0.0,
        ..TrainConfig::default()
    }
}

fn meta() -> CheckpointMeta {
    CheckpointMeta {
        game: "connect4".into(),
        step: 0,
        replay_added: 7,
        games: 3,
        samples: 0,
        net: Vec::new(),
        elapsed_seconds: 1.5,
        evaluations: 12_345,
    }
}

fn temp(name: &str) -> PathBuf {
    std::env::temp_dir().join(format!("az-train-{}-{name}", std::process::id()))
}

fn outputs(t: &Trainer) -> Vec<f32> {
    let net = t.inference_net(&Device::flex());
    let data = dataset(32);
    let (logits, values) = net.forward_slices(4, &data.inputs);
    logits.into_iter().chain(values).collect()
}

#[test]
fn a_tiny_fixed_dataset_is_overfit() {
    let net = NetConfig {
        channels: 16,
        ..NET
    };
    let mut t = Trainer::new(net, config(), &Device::flex());
    let data = dataset(32);
    let first = t.step(&data).unwrap().loss;
    let mut last = first;
    for _ in 0..400 {
        last = t.step(&data).unwrap().loss;
    }
    assert!(last < first / 10.0, "loss {first} -> {last}");
    assert_eq!(t.steps(), 401);
}

#[test]
fn a_non_finite_loss_stops_without_changing_the_weights() {
    let mut t = Trainer::new(NET, config(), &Device::flex());
    t.step(&dataset(8)).unwrap();
    let before = outputs(&t);
    let mut bad = dataset(8);
    bad.inputs[5] = f32::NAN;
    let err = t.step(&bad).unwrap_err();
    assert!(
        matches!(err, TrainError::NonFinite { step: 2, .. }),
        "{err}"
    );
    assert!(err.to_string().contains("last checkpoint is intact"));
    assert_eq!(outputs(&t), before);
    assert_eq!(t.steps(), 1);
}

#[test]
fn a_checkpoint_resumes_training_exactly() {
    let data = dataset(32);
    let mut t = Trainer::new(NET, config(), &Device::flex());
    for _ in 0..3 {
        t.step(&data).unwrap();
    }
    let path = temp("resume.azc");
    t.save(&path, meta()).unwrap();
    let saved = outputs(&t);
    for _ in 0..3 {
        t.step(&data).unwrap();
    }
    let (mut r, m) = Trainer::load(&path, "connect4", NET, config(), &Device::flex()).unwrap();
    assert_eq!(
        (m.step, m.replay_added, m.games, m.evaluations),
        (3, 7, 3, 12_345)
    );
    assert_eq!(outputs(&r), saved, "save -> load gives identical outputs");
    for _ in 0..3 {
        r.step(&data).unwrap();
    }
    // Same weights and optimiser state: the same three steps give the same network.
    let (a, b) = (outputs(&t), outputs(&r));
    for (x, y) in a.iter().zip(&b) {
        assert!((x - y).abs() < 1e-5, "{x} vs {y}");
    }
    std::fs::remove_file(&path).unwrap();
}

#[test]
fn damaged_or_foreign_checkpoints_give_clear_errors() {
    let t = Trainer::new(NET, config(), &Device::flex());
    let path = temp("bad.azc");
    t.save(&path, meta()).unwrap();
    let good = std::fs::read(&path).unwrap();
    let load = |bytes: &[u8]| {
        std::fs::write(&path, bytes).unwrap();
        Trainer::load(&path, "connect4", NET, config(), &Device::flex()).map(|_| ())
    };
    let mut cuts: Vec<usize> = (0..64).collect();
    cuts.extend((64..good.len()).step_by(997));
    cuts.push(good.len() - 1);
    for cut in cuts {
        let e = load(&good[..cut]).unwrap_err();
        assert!(
            matches!(e, CheckpointError::Corrupt { .. }),
            "cut {cut}: {e}"
        );
        assert!(e.to_string().contains("bad.azc"));
    }
    let mut flipped = good.clone();
    flipped[good.len() / 2] ^= 0x40;
    assert!(matches!(
        load(&flipped).unwrap_err(),
        CheckpointError::Corrupt { .. }
    ));
    assert!(
        load(b"garbage")
            .unwrap_err()
            .to_string()
            .contains("not a usable checkpoint")
    );
    load(&good).unwrap();
    let other = NetConfig {
        channels: 16,
        ..NET
    };
    let e = Trainer::load(&path, "connect4", other, config(), &Device::flex()).unwrap_err();
    assert!(matches!(e, CheckpointError::Mismatch { .. }), "{e}");
    let e = Trainer::load(&path, "othello", NET, config(), &Device::flex()).unwrap_err();
    assert!(e.to_string().contains("othello"), "{e}");
    let missing = Trainer::load(
        &temp("missing.azc"),
        "connect4",
        NET,
        config(),
        &Device::flex(),
    )
    .unwrap_err();
    assert!(matches!(missing, CheckpointError::Io { .. }));
    std::fs::remove_file(&path).unwrap();
}

#[test]
fn weights_files_carry_the_inference_outputs_and_refuse_another_network() {
    let data = dataset(32);
    let mut t = Trainer::new(NET, config(), &Device::flex());
    for _ in 0..2 {
        t.step(&data).unwrap();
    }
    let bytes = t.weights("connect4").unwrap();
    let src = std::path::Path::new("nats://test/weights-2");
    let (net, m) = az_train::read_weights(&bytes, src, "connect4", NET, &Device::flex()).unwrap();
    assert_eq!((m.step, m.net), (2, az_train::net_sizes(NET)));
    let d = dataset(4);
    let (logits, values) = net.forward_slices(4, &d.inputs);
    let got: Vec<f32> = logits.into_iter().chain(values).collect();
    assert_eq!(
        got,
        outputs(&t),
        "weights file -> same outputs as the trainer"
    );
    let wider = NetConfig {
        channels: 16,
        ..NET
    };
    let e = az_train::read_weights(&bytes, src, "connect4", wider, &Device::flex()).unwrap_err();
    assert!(matches!(e, CheckpointError::Mismatch { .. }), "{e}");
    assert!(e.to_string().contains("nats://test/weights-2"), "{e}");
    let e = az_train::read_weights(
        &bytes[..bytes.len() / 2],
        src,
        "connect4",
        NET,
        &Device::flex(),
    );
    assert!(matches!(e, Err(CheckpointError::Corrupt { .. })));
}

#[test]
fn a_wider_value_head_is_recorded_and_one_plane_keeps_the_seven_sizes_of_older_files() {
    // One value plane: the seven sizes every checkpoint had before the value
    // head could have more, so those files still load.
    assert_eq!(az_train::net_sizes(NET), [3, 6, 7, 7, 1, 8, 16]);
    let wide = NetConfig {
        value_channels: 4,
        ..NET
    };
    assert_eq!(az_train::net_sizes(wide), [3, 6, 7, 7, 1, 8, 16, 4]);
    let data = dataset(32);
    let mut t = Trainer::new(wide, config(), &Device::flex());
    t.step(&data).unwrap();
    let bytes = t.weights("connect4").unwrap();
    let src = std::path::Path::new("wide.azck");
    let (net, m) = az_train::read_weights(&bytes, src, "connect4", wide, &Device::flex()).unwrap();
    assert_eq!(m.net, az_train::net_sizes(wide));
    let d = dataset(4);
    let (logits, values) = net.forward_slices(4, &d.inputs);
    let got: Vec<f32> = logits.into_iter().chain(values).collect();
    assert_eq!(got, outputs(&t), "the wide head's weights round-trip");
    let e = az_train::read_weights(&bytes, src, "connect4", NET, &Device::flex()).unwrap_err();
    assert!(matches!(e, CheckpointError::Mismatch { .. }), "{e}");
    assert!(
        e.to_string().contains("16, 4]"),
        "names the value planes: {e}"
    );
}

#[test]
fn a_weights_file_starts_a_trainer_with_a_fresh_optimiser() {
    let data = dataset(32);
    let mut t = Trainer::new(NET, config(), &Device::flex());
    t.step(&data).unwrap();
    let path = temp("weights-as-checkpoint");
    std::fs::write(&path, t.weights("connect4").unwrap()).unwrap();
    let (mut from_weights, m) = Trainer::load(&path, "connect4", NET, config(), &Device::flex())
        .expect("a weights file loads as a trainer");
    assert_eq!((m.step, from_weights.steps()), (1, 1));
    assert_eq!(outputs(&from_weights), outputs(&t), "same weights");
    // The optimiser starts fresh: the next step differs from the trainer's,
    // whose AdamW moments carry the first step.
    t.step(&data).unwrap();
    from_weights.step(&data).unwrap();
    assert_ne!(outputs(&from_weights), outputs(&t));
    let _ = std::fs::remove_file(&path);
}

#[test]
fn positions_without_a_policy_target_train_the_value_only() {
    // Rows 4..8 repeat rows 0..4, so both batches have the same inputs (and
    // batch-norm statistics). With the repeats' policy targets zeroed (playout
    // cap randomization's fast searches), the policy loss is the mean over the
    // rows that have one: the same as with every target present.
    let mut full = dataset(4);
    full.n = 8;
    let copy = full.clone();
    full.inputs.extend(&copy.inputs);
    full.masks.extend(&copy.masks);
    full.policies.extend(&copy.policies);
    full.values.extend(&copy.values);
    let mut fast = full.clone();
    fast.policies[4 * 7..].fill(0.0);
    let mut a = Trainer::new(NET, config(), &Device::flex());
    let path = temp("no-policy-target.azc");
    a.save(&path, meta()).unwrap();
    let (mut b, _) = Trainer::load(&path, "connect4", NET, config(), &Device::flex()).unwrap();
    std::fs::remove_file(&path).unwrap();
    assert_eq!(outputs(&a), outputs(&b), "the same weights");
    let (sa, sb) = (a.step(&full).unwrap(), b.step(&fast).unwrap());
    assert!(sa.policy_loss > 0.1);
    assert!(
        (sa.policy_loss - sb.policy_loss).abs() < 1e-5,
        "{} vs {}",
        sa.policy_loss,
        sb.policy_loss
    );
    assert_eq!(sa.value_loss, sb.value_loss);
    // All targets missing: no policy loss at all.
    let mut none = full.clone();
    none.policies.fill(0.0);
    assert_eq!(
        Trainer::new(NET, config(), &Device::flex())
            .step(&none)
            .unwrap()
            .policy_loss,
        0.0
    );
}

#[test]
fn a_heavier_value_loss_fits_the_value_faster() {
    // Two trainers from the same weights take one small step on the same
    // batch, value weights 1 and 8. The step follows -(g_policy + w g_value),
    // so to first order the heavier weight lowers the value loss by
    // 7 lr |g_value|^2 more. The reported loss is the optimised one.
    let data = dataset(64);
    let start = Trainer::new(NET, config(), &Device::flex());
    let path = temp("value-weight.azc");
    start.save(&path, meta()).unwrap();
    let stepped = |value_loss_weight: f64| {
        let config = TrainConfig {
            value_loss_weight,
            learning_rate: 0.001,
            ..config()
        };
        let (mut t, _) = Trainer::load(&path, "connect4", NET, config, &Device::flex()).unwrap();
        let before = t.step(&data).unwrap();
        let w = value_loss_weight as f32;
        assert!((before.loss - (before.policy_loss + w * before.value_loss)).abs() < 1e-5);
        (before, t.step(&data).unwrap())
    };
    let ((b1, even), (b8, heavy)) = (stepped(1.0), stepped(8.0));
    std::fs::remove_file(&path).unwrap();
    assert_eq!(
        (b1.policy_loss, b1.value_loss),
        (b8.policy_loss, b8.value_loss)
    );
    assert!(
        heavy.value_loss < even.value_loss && even.value_loss < b1.value_loss,
        "value loss {} before; after one step with weight 1: {}, with 8: {}",
        b1.value_loss,
        even.value_loss,
        heavy.value_loss
    );
}

/// Ownership targets for `dataset`'s inputs that a small tower can learn: the
/// first plane's cells, +1 where it is set, -1 where not.
fn owners_of(data: &TrainBatch) -> Vec<f32> {
    let len = 3 * 42;
    (0..data.n)
        .flat_map(|i| data.inputs[i * len..i * len + 42].iter())
        .map(|&x| if x == 1.0 { 1.0 } else { -1.0 })
        .collect()
}

#[test]
fn the_ownership_head_learns_its_target_and_round_trips_in_checkpoints() {
    let owned = NetConfig {
        ownership: true,
        ..NET
    };
    // The head is recorded after the value planes, so a checkpoint says it has one.
    assert_eq!(az_train::net_sizes(owned), [3, 6, 7, 7, 1, 8, 16, 1, 1]);
    let mut data = dataset(32);
    data.owners = owners_of(&data);
    let device = Device::flex();
    let mut t = Trainer::new(owned, config(), &device);
    let first = t.step(&data).unwrap();
    let mut last = first;
    for _ in 0..80 {
        last = t.step(&data).unwrap();
    }
    let (o0, o1) = (first.ownership_loss.unwrap(), last.ownership_loss.unwrap());
    assert!(o1 < 0.3 * o0, "ownership loss {o0} -> {o1}");
    let weighted = last.policy_loss + last.value_loss + o1;
    assert!((last.loss - weighted).abs() < 1e-4, "{last:?}");
    // A plain network reports none.
    let mut plain = Trainer::new(NET, config(), &device);
    assert_eq!(plain.step(&data).unwrap().ownership_loss, None);
    // A batch without targets is refused by name; nothing is stepped.
    let mut bare = data.clone();
    bare.owners.clear();
    let e = t.step(&bare).unwrap_err();
    assert!(
        matches!(
            e,
            TrainError::Owners {
                got: 0,
                expected: 42
            }
        ),
        "{e}"
    );
    assert_eq!(t.steps(), 81);
    // Round trip through a checkpoint; a network without the head refuses it.
    let path = temp("owned.azck");
    t.save(&path, meta()).unwrap();
    let (loaded, m) = Trainer::load(&path, "connect4", owned, config(), &device).unwrap();
    assert_eq!(m.net, az_train::net_sizes(owned));
    assert_eq!(outputs(&loaded), outputs(&t));
    let head = |t: &Trainer| {
        let conv = t.net().ownership.as_ref().expect("an ownership head");
        let w = conv.weight.val().into_data().try_to_vec::<f32>().unwrap();
        let b = conv
            .bias
            .as_ref()
            .unwrap()
            .val()
            .into_data()
            .try_to_vec::<f32>()
            .unwrap();
        (w, b)
    };
    assert_eq!(head(&loaded), head(&t));
    let e = Trainer::load(&path, "connect4", NET, config(), &device).unwrap_err();
    assert!(matches!(e, CheckpointError::Mismatch { .. }), "{e}");
    std::fs::remove_file(&path).unwrap();
}
