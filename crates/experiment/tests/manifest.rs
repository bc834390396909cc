use az_experiment::{AdapterSpec, DeviceSpec, Experiment, FpuSpec, ManifestError};
use std::path::Path;

const GAMES: &[&str] = &["tictactoe", "connect4"];

fn load(text: &str, overrides: &[&str]) -> Result<Experiment, ManifestError> {
    let o: Vec<String> = overrides.iter().map(|s| s.to_string()).collect();
    Experiment::from_toml(text, Path::new("exp/test.toml"), &o, GAMES)
}

fn err(text: &str) -> String {
    load(text, &[]).unwrap_err().to_string()
}

#[test]
fn minimal_manifest_gets_the_defaults() {
    let e = load("[game]\nname = \"connect4\"\n", &[]).unwrap();
    assert_eq!(e.name, "test");
    assert_eq!(e.manifest.mcts.simulations, 200);
    assert_eq!(e.manifest.model.device, DeviceSpec::Cpu);
    assert_eq!(e.manifest.inference.max_batch, 128);
}

#[test]
fn written_out_manifest_reads_back_equal() {
    let e = load(
        "[game]\nname = \"tictactoe\"\n[mcts]\nfpu = { reduction = 0.3 }\n",
        &[],
    )
    .unwrap();
    assert_eq!(e.manifest.mcts.fpu, FpuSpec::Reduction(0.3));
    let again = load(&e.to_toml(), &[]).unwrap();
    assert_eq!(again.manifest, e.manifest);
}

#[test]
fn the_root_settings_are_read_and_refused_with_reasons() {
    let text = "[game]\nname = \"connect4\"\n[mcts]\nsimulations = 64\nroot = \"gumbel\"\n\
                gumbel_considered = 8\ngumbel_sample_plies = 12\nfast_simulations = 16\n\
                full_search_share = 0.5\n\
                [run]\nmax_evaluations = 1000000\n[eval]\nroot = \"puct\"\nsimulations = 100\n";
    let e = load(text, &[]).unwrap();
    let again = load(&e.to_toml(), &[]).unwrap();
    assert_eq!(again.manifest, e.manifest);
    assert_eq!(e.manifest.run.max_evaluations, Some(1_000_000));
    assert_eq!(e.manifest.mcts.gumbel_sample_plies, Some(12));
    let base = "[game]\nname = \"connect4\"\n[mcts]\nsimulations = 64\n";
    for (extra, key, allowed) in [
        (
            "root = \"gumbel\"\nforced_playouts = 2.0\n",
            "mcts.forced_playouts",
            "puct",
        ),
        (
            "fast_simulations = 64\n",
            "mcts.fast_simulations",
            "from 1 to 63",
        ),
        (
            "fast_simulations = 8\nfull_search_share = 0.0\n",
            "mcts.full_search_share",
            "(0, 1]",
        ),
        (
            "gumbel_considered = 0\n",
            "mcts.gumbel_considered",
            "from 1 to 4096",
        ),
        ("gumbel_c_scale = 0.0\n", "mcts.gumbel_c_scale", "(0, 1000]"),
        (
            "root = \"gumbel\"\ngumbel_sample_plies = 2000000\n",
            "mcts.gumbel_sample_plies",
            "from 0 to 1048576",
        ),
        ("root = \"alphazero\"\n", "root", "gumbel"),
    ] {
        let e = err(&format!("{base}{extra}"));
        assert!(e.contains(key) && e.contains(allowed), "{extra}: {e}");
    }
    let e = err("[game]\nname = \"connect4\"\n[run]\nmax_evaluations = 0\n");
    assert!(e.contains("run.max_evaluations"), "{e}");
    // A Gumbel run's manifest measured by PUCT (`--set mcts.root=puct`).
    let puct = load(&format!("{base}gumbel_sample_plies = 8\n"), &[]).unwrap();
    assert_eq!(puct.manifest.mcts.gumbel_sample_plies, Some(8));
}

#[test]
fn random_openings_are_read_and_refused_with_reasons() {
    let text = "[game]\nname = \"connect4\"\n[selfplay]\nrandom_opening_share = 0.5\n\
                random_opening_plies = 12\n";
    let e = load(text, &[]).unwrap();
    assert_eq!(e.manifest.selfplay.random_opening_share, 0.5);
    assert_eq!(e.manifest.selfplay.random_opening_plies, 12);
    assert_eq!(load(&e.to_toml(), &[]).unwrap().manifest, e.manifest);
    let base = "[game]\nname = \"connect4\"\n[selfplay]\n";
    for (extra, key, allowed) in [
        (
            "random_opening_share = 1.5\n",
            "selfplay.random_opening_share",
            "[0, 1]",
        ),
        (
            "random_opening_plies = 0\n",
            "selfplay.random_opening_plies",
            "from 1 to 1024",
        ),
    ] {
        let e = err(&format!("{base}{extra}"));
        assert!(e.contains(key) && e.contains(allowed), "{extra}: {e}");
    }
}

#[test]
fn errors_name_file_key_value_and_what_is_allowed() {
    let e = err("[game]\nname = \"connect4\"\n[mcts]\nsimulations = 0\n");
    assert!(
        e.contains("exp/test.toml")
            && e.contains("`mcts.simulations` = 0")
            && e.contains("from 2 to"),
        "{e}"
    );
    // One simulation evaluates the root only: no visit counts to train on.
    assert!(err("[game]\nname = \"connect4\"\n[mcts]\nsimulations = 1\n").contains("from 2 to"));
    let e = err("[game]\nname = \"chess\"\n");
    assert!(
        e.contains("`game.name` = \"chess\"") && e.contains("tictactoe, connect4"),
        "{e}"
    );
    let e = err("[mcts]\nsimulations = 10\n");
    assert!(e.contains("game.name") && e.contains("(missing)"), "{e}");
    let e = err("[game]\nname = \"connect4\"\n[mcts]\nsimulatons = 10\n");
    assert!(
        e.contains("exp/test.toml") && e.contains("simulatons") && e.contains("simulations"),
        "{e}"
    );
    let e = err("[game]\nname = \"connect4\"\n[selfplay]\nparallel_games = \"many\"\n");
    assert!(e.contains("parallel_games"), "{e}");
    let e = err("[game]\nname = \"connect4\"\n[model]\ndevice = \"tpu\"\n");
    assert!(
        e.contains("tpu") && e.contains("cpu") && e.contains("cuda"),
        "{e}"
    );
    let e = err("[game]\nname = \"connect4\"\n[eval]\nopponents = [\"mcts:x\"]\n");
    assert!(
        e.contains("eval.opponents[0]") && e.contains("mcts:N"),
        "{e}"
    );
    let e = err("[game]\nname = \"connect4\"\n[selfplay]\nparallel_games = 2\nworkers = 4\n");
    assert!(
        e.contains("selfplay.workers") && e.contains("parallel_games = 2"),
        "{e}"
    );
    let e = err("[game]\nname = \"connect4\"\n[train]\nlr_schedule = \"cosine\"\n");
    assert!(
        e.contains("run.max_steps") && e.contains("run.max_evaluations"),
        "{e}"
    );
    for budget in ["max_steps = 1000", "max_evaluations = 1000000"] {
        let text = format!(
            "[game]\nname = \"connect4\"\n[run]\n{budget}\n[train]\nlr_schedule = \"cosine\"\n"
        );
        load(&text, &[]).unwrap_or_else(|e| panic!("{budget}: {e}"));
    }
    let e = err("this is not toml");
    assert!(e.contains("exp/test.toml"), "{e}");
}

#[test]
fn the_cluster_section_names_what_it_refuses_and_derives_its_names() {
    let base = "[game]\nname = \"connect4\"\n";
    let e = load(base, &[]).unwrap();
    assert_eq!(e.cluster_stream(), "az-test-games");
    assert_eq!(e.cluster_bucket(), "az-test-weights");
    assert_eq!(e.cluster_publish_every(), e.manifest.train.publish_every);
    let e = load(
        base,
        &["cluster.stream=\"games-1\"", "cluster.publish_every=7"],
    )
    .unwrap();
    assert_eq!(
        (e.cluster_stream().as_str(), e.cluster_publish_every()),
        ("games-1", 7)
    );
    for (set, key) in [
        ("cluster.stream=\"a.b\"", "cluster.stream"),
        ("cluster.bucket=\"\"", "cluster.bucket"),
        ("cluster.consumer=\"x y\"", "cluster.consumer"),
        ("cluster.publish_every=0", "cluster.publish_every"),
        ("cluster.ack_wait_seconds=0.5", "cluster.ack_wait_seconds"),
        ("cluster.keep_weights=0", "cluster.keep_weights"),
        ("cluster.max_gigabytes=-1", "cluster.max_gigabytes"),
    ] {
        let e = load(base, &[set]).unwrap_err().to_string();
        assert!(
            e.contains(&format!("`{key}`")) && e.contains("exp/test.toml"),
            "{set}: {e}"
        );
    }
    let e = load(base, &["cluster.max_age_hours=0.01"])
        .unwrap_err()
        .to_string();
    assert!(e.contains("duplicate_window_seconds"), "{e}");
}

#[test]
fn overrides_apply_before_checking() {
    let base = "[game]\nname = \"connect4\"\n";
    let e = load(
        base,
        &[
            "mcts.simulations=800",
            "model.device=cuda",
            "run.max_seconds = 60",
        ],
    )
    .unwrap();
    assert_eq!(e.manifest.mcts.simulations, 800);
    assert_eq!(e.manifest.model.device, DeviceSpec::Cuda);
    assert_eq!(e.manifest.run.max_seconds, Some(60));
    let e = load(base, &["game.name=tictactoe"]).unwrap();
    assert_eq!(e.manifest.game.name, "tictactoe");
    for (bad, needle) in [
        ("mcts.simulations", "section.key=value"),
        ("simulations=3", "section.key"),
        ("mcts.simulations=-5", "mcts.simulations"),
        ("game=3", "section.key"),
    ] {
        let e = load(base, &[bad]).unwrap_err().to_string();
        assert!(e.contains(needle), "{bad}: {e}");
    }
}

#[test]
fn wgpu_adapter_is_read_and_written_back() {
    let base = "[game]\nname = \"connect4\"\n";
    let e = load(base, &["model.device=wgpu", "model.adapter=discrete:1"]).unwrap();
    assert_eq!(e.manifest.model.device, DeviceSpec::Wgpu);
    assert_eq!(e.manifest.model.adapter, AdapterSpec::Discrete(1));
    let text = toml::to_string(&e.manifest).unwrap();
    assert!(text.contains("adapter = \"discrete:1\""), "{text}");
    for (given, expected) in [
        ("default", AdapterSpec::Default),
        ("cpu", AdapterSpec::Cpu),
        ("integrated", AdapterSpec::Integrated(0)),
        ("virtual:2", AdapterSpec::Virtual(2)),
    ] {
        assert_eq!(given.parse::<AdapterSpec>(), Ok(expected));
    }
    for bad in ["gpu", "cpu:1", "discrete:x", "default:0", ""] {
        let e = err(&format!("{base}[model]\nadapter = \"{bad}\"\n"));
        assert!(
            e.contains("exp/test.toml") && e.contains("adapter") && e.contains("integrated"),
            "{bad}: {e}"
        );
    }
}
