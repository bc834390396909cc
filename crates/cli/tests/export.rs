//! `az export`: trained tic-tac-toe and connect4 checkpoints as safetensors files,
//! read back by tools/reference_net.py (numpy alone), whose policy and value must
//! match az's own network within 1e-4 on 100 positions; bad targets refused.

#[allow(dead_code)] // az_stdin is for the tests that feed stdin
mod common;
#[path = "common/runs.rs"]
mod runs;

use common::text;
use runs::{ROOT, az, trained};
use std::path::{Path, PathBuf};
use std::process::Command;

/// A scratch directory of this test file.
fn scratch(name: &str) -> PathBuf {
    runs::scratch("az-export-test", name)
}

/// A Python with numpy: `AZ_TB_PYTHON` (CI's virtualenv) or `python3`; `None`
/// (the check skipped) only outside CI.
fn python() -> Option<String> {
    let py = std::env::var("AZ_TB_PYTHON").unwrap_or_else(|_| "python3".to_owned());
    let has_numpy = Command::new(&py)
        .args(["-c", "import numpy"])
        .output()
        .is_ok_and(|o| o.status.success());
    if has_numpy {
        return Some(py);
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "{py} has no numpy: CI must check the export with tools/reference_net.py"
    );
    eprintln!("skipping the numpy read-back: {py} has no numpy (set AZ_TB_PYTHON)");
    None
}

fn export_and_check(experiment: &str, dims: &str, actions: usize) {
    let dir = scratch(experiment);
    let run = trained(experiment, &dir);
    let file = dir.join("net.safetensors");
    let o = az(&[
        "export",
        run.to_str().unwrap(),
        "--format",
        "safetensors",
        "-o",
        file.to_str().unwrap(),
        "--samples",
        "100",
    ]);
    assert!(o.status.success(), "{}", text(&o));

    // The file: stable names, the architecture in the metadata.
    let bytes = std::fs::read(&file).unwrap();
    let (_, meta) = safetensors::SafeTensors::read_metadata(&bytes).unwrap();
    let m = meta.metadata().as_ref().expect("metadata");
    assert_eq!(m["game"], experiment);
    assert_eq!(m["format"], "az.inference.v1");
    assert_eq!(m["input_shape"], dims);
    assert_eq!(m["actions"], actions.to_string());
    assert_eq!(m["batch_norm"], "folded");
    let st = safetensors::SafeTensors::deserialize(&bytes).unwrap();
    let blocks: usize = m["blocks"].parse().unwrap();
    let mut names: Vec<String> = st.names().into_iter().map(str::to_owned).collect();
    names.sort();
    assert_eq!(names.len(), 2 * (1 + 2 * blocks + 5), "{names:?}");
    for name in [
        "stem.weight",
        "blocks.0.a.bias",
        "policy_fc.weight",
        "value_fc2.bias",
    ] {
        assert!(names.iter().any(|n| n == name), "{name}: {names:?}");
    }
    assert_eq!(st.tensor("policy_fc.weight").unwrap().shape()[0], actions);

    // numpy alone reproduces az's policy and value.
    if let Some(py) = python() {
        let o = Command::new(py)
            .arg(Path::new(ROOT).join("tools/reference_net.py"))
            .arg(&file)
            .args(["--check", "--tolerance", "1e-4"])
            .output()
            .unwrap();
        let t = text(&o);
        assert!(o.status.success(), "{t}");
        assert!(
            t.contains("\"positions\": 100") && t.contains("\"ok\": true"),
            "{t}"
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn tictactoe_export_matches_in_numpy() {
    export_and_check("tictactoe", "[3, 3, 3]", 9);
}

#[test]
fn connect4_export_matches_in_numpy() {
    export_and_check("connect4", "[4, 6, 7]", 7);
}

#[test]
fn export_refuses_what_is_not_a_checkpoint() {
    let dir = scratch("bad");
    let run = trained("tictactoe", &dir);
    // Another file format.
    let stray = dir.join("notes.txt");
    std::fs::write(&stray, "not a checkpoint").unwrap();
    // A checkpoint cut in half, inside the run.
    let ck = std::fs::read_dir(run.join("checkpoints"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let bytes = std::fs::read(&ck).unwrap();
    let cut = run.join("checkpoints/step-999999999.azck");
    std::fs::write(&cut, &bytes[..bytes.len() / 2]).unwrap();
    let out = dir.join("x.safetensors");
    for (target, needle) in [
        (stray.to_str().unwrap(), "manifest.toml"),
        (cut.to_str().unwrap(), "step-999999999.azck"),
        ("/nonexistent/run", "no such run directory"),
    ] {
        let o = az(&["export", target, "-o", out.to_str().unwrap()]);
        let t = text(&o);
        assert_eq!(o.status.code(), Some(2), "{target}: {t}");
        assert!(t.contains(needle), "{target}: expected {needle:?} in {t}");
        assert!(!t.contains("panicked"), "{t}");
        assert!(!out.exists(), "{target}: wrote {}", out.display());
    }
    let o = az(&["export", run.to_str().unwrap(), "--format", "onnx"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    let _ = std::fs::remove_dir_all(&dir);
}
