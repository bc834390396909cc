//! Range checks of a parsed manifest.

use crate::{Manifest, ManifestError, ScheduleSpec};
use std::fmt::Display;
use std::path::Path;

struct Checker<'a> {
    path: &'a Path,
}

impl Checker<'_> {
    fn fail(&self, key: &str, value: impl Display, allowed: &str) -> ManifestError {
        ManifestError::Invalid {
            path: self.path.to_owned(),
            key: key.to_owned(),
            value: value.to_string(),
            allowed: allowed.to_owned(),
        }
    }

    fn int<T: PartialOrd + Display + Copy>(
        &self,
        key: &str,
        v: T,
        lo: T,
        hi: T,
    ) -> Result<(), ManifestError> {
        if v < lo || v > hi {
            return Err(self.fail(key, v, &format!("a whole number from {lo} to {hi}")));
        }
        Ok(())
    }

    fn real(
        &self,
        key: &str,
        v: f64,
        lo: f64,
        hi: f64,
        lo_open: bool,
    ) -> Result<(), ManifestError> {
        let below = if lo_open { v <= lo } else { v < lo };
        if !v.is_finite() || below || v > hi {
            let bracket = if lo_open { "(" } else { "[" };
            return Err(self.fail(key, v, &format!("a number in {bracket}{lo}, {hi}]")));
        }
        Ok(())
    }
}

pub(crate) fn check(m: &Manifest, path: &Path, games: &[&str]) -> Result<(), ManifestError> {
    let c = Checker { path };
    if !games.contains(&m.game.name.as_str()) {
        let shown = if m.game.name.is_empty() {
            "(missing)".to_owned()
        } else {
            format!("{:?}", m.game.name)
        };
        return Err(c.fail("game.name", shown, &format!("one of {}", games.join(", "))));
    }
    if let Some(s) = m.run.max_seconds {
        c.int("run.max_seconds", s, 1, 365 * 24 * 3600)?;
    }
    if let Some(s) = m.run.max_steps {
        c.int("run.max_steps", s, 1, u64::MAX)?;
    }
    if let Some(e) = m.run.max_evaluations {
        c.int("run.max_evaluations", e, 1, u64::MAX)?;
    }

    let t = &m.mcts;
    // One simulation only evaluates the root: no visit counts to learn from.
    c.int("mcts.simulations", t.simulations, 2, 10_000_000)?;
    c.real("mcts.c_puct", f64::from(t.c_puct), 0.0, 100.0, true)?;
    c.real(
        "mcts.c_puct_base",
        f64::from(t.c_puct_base),
        0.0,
        f64::MAX,
        true,
    )?;
    match t.fpu {
        crate::FpuSpec::Absolute(x) => {
            c.real("mcts.fpu.absolute", f64::from(x), -1.0, 1.0, false)?
        }
        crate::FpuSpec::Reduction(r) => {
            c.real("mcts.fpu.reduction", f64::from(r), 0.0, 2.0, false)?
        }
    }
    c.real(
        "mcts.virtual_loss",
        f64::from(t.virtual_loss),
        0.0,
        100.0,
        false,
    )?;
    c.real(
        "mcts.dirichlet_alpha",
        f64::from(t.dirichlet_alpha),
        0.0,
        100.0,
        true,
    )?;
    c.real(
        "mcts.dirichlet_epsilon",
        f64::from(t.dirichlet_epsilon),
        0.0,
        1.0,
        false,
    )?;
    c.int("mcts.temperature_moves", t.temperature_moves, 0, 100_000)?;
    check_root(&c, t)?;

    let s = &m.selfplay;
    c.int("selfplay.parallel_games", s.parallel_games, 1, 1 << 20)?;
    c.int("selfplay.searches_per_game", s.searches_per_game, 1, 4096)?;
    c.int("selfplay.workers", s.workers, 1, 1024)?;
    if s.workers > s.parallel_games {
        return Err(c.fail(
            "selfplay.workers",
            s.workers,
            &format!("at most selfplay.parallel_games = {}", s.parallel_games),
        ));
    }
    c.int("selfplay.groups", s.groups, 1, 64)?;
    if let Some(r) = s.resign_threshold {
        c.real("selfplay.resign_threshold", f64::from(r), -1.0, 1.0, false)?;
    }
    c.real(
        "selfplay.resign_check_share",
        f64::from(s.resign_check_share),
        0.0,
        1.0,
        false,
    )?;
    c.real(
        "selfplay.random_opening_share",
        f64::from(s.random_opening_share),
        0.0,
        1.0,
        false,
    )?;
    c.int(
        "selfplay.random_opening_plies",
        s.random_opening_plies,
        1,
        1024,
    )?;

    let i = &m.inference;
    c.int("inference.max_batch", i.max_batch, 1, 1 << 16)?;
    c.int("inference.deadline_us", i.deadline_us, 0, 10_000_000)?;
    c.int("inference.cache_size", i.cache_size, 0, 1 << 30)?;
    c.int("inference.threads", i.threads, 1, 64)?;

    let md = &m.model;
    c.int("model.blocks", md.blocks, 0, 100)?;
    c.int("model.channels", md.channels, 1, 4096)?;
    c.int("model.value_hidden", md.value_hidden, 1, 65_536)?;
    c.int("model.value_channels", md.value_channels, 1, 4096)?;

    let tr = &m.train;
    c.int("train.batch_size", tr.batch_size, 1, 1 << 16)?;
    c.real("train.learning_rate", tr.learning_rate, 0.0, 10.0, true)?;
    c.int("train.lr_warmup_steps", tr.lr_warmup_steps, 0, u64::MAX)?;
    if tr.lr_schedule == ScheduleSpec::Step {
        c.int("train.lr_step_every", tr.lr_step_every, 1, u64::MAX)?;
        c.real("train.lr_step_factor", tr.lr_step_factor, 0.0, 1.0, true)?;
    }
    if tr.lr_schedule == ScheduleSpec::Cosine
        && m.run.max_steps.is_none()
        && m.run.max_evaluations.is_none()
    {
        return Err(c.fail(
            "train.lr_schedule",
            "\"cosine\"",
            "\"constant\" or \"step\" unless run.max_steps or run.max_evaluations is set",
        ));
    }
    c.real("train.momentum", tr.momentum, 0.0, 1.0, false)?;
    c.real("train.weight_decay", tr.weight_decay, 0.0, 1.0, false)?;
    c.real(
        "train.value_loss_weight",
        tr.value_loss_weight,
        0.0,
        100.0,
        true,
    )?;
    c.real(
        "train.ownership_loss_weight",
        tr.ownership_loss_weight,
        0.0,
        100.0,
        false,
    )?;
    c.real("train.train_ratio", tr.train_ratio, 0.0, 10_000.0, true)?;
    c.int("train.checkpoint_every", tr.checkpoint_every, 1, u64::MAX)?;
    c.int("train.keep_checkpoints", tr.keep_checkpoints, 1, 10_000)?;
    c.int("train.publish_every", tr.publish_every, 1, u64::MAX)?;
    c.int("train.min_replay", tr.min_replay, 1, usize::MAX)?;

    c.int("replay.capacity", m.replay.capacity, 1, 1 << 32)?;
    c.real(
        "replay.flush_seconds",
        m.replay.flush_seconds,
        0.0,
        3600.0,
        true,
    )?;
    c.real(
        "replay.value_q_weight",
        f64::from(m.replay.value_q_weight),
        0.0,
        1.0,
        false,
    )?;
    if m.replay.capacity < m.train.batch_size {
        return Err(c.fail(
            "replay.capacity",
            m.replay.capacity,
            &format!("at least train.batch_size = {}", m.train.batch_size),
        ));
    }

    for (i, o) in m.eval.opponents.iter().enumerate() {
        let ok = o == "random"
            || o == "perfect"
            || o == "previous"
            || o.strip_prefix("mcts:")
                .and_then(|n| n.parse::<u32>().ok())
                .is_some_and(|n| n >= 1);
        if !ok {
            return Err(c.fail(
                &format!("eval.opponents[{i}]"),
                format!("{o:?}"),
                "\"random\", \"perfect\" (games with an oracle), \"previous\" (the network at the previous evaluation) or \"mcts:N\" with N >= 1",
            ));
        }
    }
    c.int("eval.games", m.eval.games, 0, 1_000_000)?;
    c.int(
        "eval.mistake_positions",
        m.eval.mistake_positions,
        0,
        100_000,
    )?;
    if let Some(n) = m.eval.simulations {
        c.int("eval.simulations", n, 1, 10_000_000)?;
    }
    check_cluster(&c, &m.cluster)
}

/// A NATS stream, bucket or consumer name: what the server accepts everywhere.
fn nats_name(c: &Checker<'_>, key: &str, v: &str) -> Result<(), ManifestError> {
    let ok = !v.is_empty()
        && v.len() <= 64
        && v.chars()
            .all(|ch| ch.is_ascii_alphanumeric() || ch == '-' || ch == '_');
    if !ok {
        return Err(c.fail(key, format!("{v:?}"), "1 to 64 letters, digits, '-' or '_'"));
    }
    Ok(())
}

fn check_cluster(c: &Checker<'_>, k: &crate::ClusterSection) -> Result<(), ManifestError> {
    if let Some(s) = &k.stream {
        nats_name(c, "cluster.stream", s)?;
    }
    if let Some(b) = &k.bucket {
        nats_name(c, "cluster.bucket", b)?;
    }
    nats_name(c, "cluster.consumer", &k.consumer)?;
    if let Some(p) = k.publish_every {
        c.int("cluster.publish_every", p, 1, u64::MAX)?;
    }
    c.int("cluster.games_per_message", k.games_per_message, 1, 1024)?;
    c.real("cluster.max_gigabytes", k.max_gigabytes, 0.0, 1e6, true)?;
    // The server counts these in whole seconds at least.
    c.real(
        "cluster.max_age_hours",
        k.max_age_hours,
        1.0 / 3600.0,
        1e6,
        false,
    )?;
    let window = k.duplicate_window_seconds;
    c.real("cluster.duplicate_window_seconds", window, 1.0, 1e6, false)?;
    if window > k.max_age_hours * 3600.0 {
        return Err(c.fail(
            "cluster.duplicate_window_seconds",
            window,
            "at most cluster.max_age_hours in seconds",
        ));
    }
    c.real(
        "cluster.ack_wait_seconds",
        k.ack_wait_seconds,
        1.0,
        1e6,
        false,
    )?;
    c.int("cluster.max_ack_pending", k.max_ack_pending, 1, 1 << 31)?;
    c.int("cluster.keep_weights", k.keep_weights, 1, 1000)?;
    let t = k.connect_timeout_seconds;
    c.real("cluster.connect_timeout_seconds", t, 0.0, 3600.0, false)
}

/// The root's own settings: Gumbel's, forced playouts, playout cap randomization.
fn check_root(c: &Checker<'_>, t: &crate::MctsSection) -> Result<(), ManifestError> {
    c.int("mcts.gumbel_considered", t.gumbel_considered, 1, 4096)?;
    c.real(
        "mcts.gumbel_c_visit",
        f64::from(t.gumbel_c_visit),
        0.0,
        1e6,
        false,
    )?;
    c.real(
        "mcts.gumbel_c_scale",
        f64::from(t.gumbel_c_scale),
        0.0,
        1e3,
        true,
    )?;
    // Like the other gumbel_* keys, read but unused under PUCT: a Gumbel run
    // stays measurable with `--set mcts.root=puct`.
    if let Some(n) = t.gumbel_sample_plies {
        c.int("mcts.gumbel_sample_plies", n, 0, 1 << 20)?;
    }
    if let Some(k) = t.forced_playouts {
        if t.root == crate::RootSpec::Gumbel {
            return Err(c.fail(
                "mcts.forced_playouts",
                k,
                "absent unless root = \"puct\" (forced playouts are the PUCT root's)",
            ));
        }
        c.real("mcts.forced_playouts", f64::from(k), 0.0, 100.0, true)?;
    }
    if let Some(fast) = t.fast_simulations {
        let most = t.simulations.saturating_sub(1).max(1);
        c.int("mcts.fast_simulations", fast, 1, most)?;
    }
    c.real(
        "mcts.full_search_share",
        f64::from(t.full_search_share),
        0.0,
        1.0,
        true,
    )
}

/// What an `az learner` cannot honour ([`Experiment::check_learner`](crate::Experiment::check_learner)).
pub(crate) fn check_learner(m: &Manifest, path: &Path) -> Result<(), ManifestError> {
    match m.run.max_evaluations {
        Some(n) => Err(Checker { path }.fail(
            "run.max_evaluations",
            n,
            "no budget of evaluations for an `az learner` (it does not count its actors' \
             network evaluations): bound it with run.max_steps or run.max_seconds",
        )),
        None => Ok(()),
    }
}
