"""Reads an az run's TensorBoard events with TensorBoard's own reader (tbparse)
and checks them against the run's scalars.jsonl, manifest.toml and the tags a
run must write. Exit 0 if all holds; prints what failed otherwise.

    python tests/tensorboard/check_run.py RUN_DIR [--min-step N]
"""
import json
import pathlib
import sys
import tomllib

import numpy as np
from tbparse import SummaryReader

REQUIRED = [
    "loss/total", "loss/policy", "loss/value", "train/learning_rate",
    "train/policy_entropy", "train/value_accuracy", "train/steps_per_sec",
    "selfplay/games_per_sec", "selfplay/positions_per_sec", "selfplay/game_length",
    "selfplay/evaluations", "selfplay/fast_move_share",
    "inference/evals_per_sec", "inference/batch_fill", "inference/device_busy",
    "inference/cache_hit_rate",
    "time/framework_share", "time/server.forward", "time/worker.gather",
    "cpu/selfplay", "cpu/network", "cpu/trainer", "cpu/evaluation",
    "replay/positions", "eval/weights_at_seconds",
    "mistakes/search/middle", "mistakes/policy/middle",
]


def eval_tags(run: pathlib.Path) -> list:
    """The evaluation tags the run's opponents must produce."""
    manifest = tomllib.loads((run / "manifest.toml").read_text())
    tags = []
    for o in manifest.get("eval", {}).get("opponents", []):
        # "previous" has no match at the first evaluation; the ladder Elo always appears.
        tags.append("eval/elo" if o == "previous" else f"eval/{o}/score")
    return tags


def main() -> int:
    run = pathlib.Path(sys.argv[1])
    min_step = int(sys.argv[sys.argv.index("--min-step") + 1]) if "--min-step" in sys.argv else 0
    failures = []
    reader = SummaryReader(str(run / "events"), pivot=False)

    # Scalars: exactly the ones in scalars.jsonl (same tags, steps, float32 values).
    tb = reader.scalars
    got = sorted(zip(tb.tag, tb.step.astype(int), tb.value.astype(np.float32)))
    want = []
    for line in (run / "scalars.jsonl").read_text().splitlines():
        d = json.loads(line)
        want.append((d["tag"], int(d["step"]), np.float32(d["value"])))
    want.sort()
    if len(got) != len(want):
        failures.append(f"{len(got)} scalars in the events, {len(want)} in scalars.jsonl")
    else:
        for g, w in zip(got, want):
            same_value = g[2] == w[2] or (np.isnan(g[2]) and np.isnan(w[2]))
            if g[0] != w[0] or g[1] != w[1] or not same_value:
                failures.append(f"event {g} differs from scalars.jsonl {w}")
                break
    tags = set(tb.tag)
    missing = [t for t in REQUIRED + eval_tags(run) if t not in tags]
    if missing:
        failures.append(f"missing scalar tags: {missing}")
    if len(tb) and tb.step.max() < min_step:
        failures.append(f"last step {tb.step.max()} is below {min_step}")

    # The batch-size histogram: present, counts add up, edges ascending.
    h = reader.histograms
    h = h[h.tag == "inference/batch_size"] if len(h) else h
    if len(h) == 0:
        failures.append("no inference/batch_size histogram")
    else:
        for _, row in h.iterrows():
            counts, limits = np.asarray(row["counts"]), np.asarray(row["limits"])
            if counts.sum() <= 0 or np.any(np.diff(limits) <= 0):
                failures.append(f"bad histogram at step {row['step']}: {counts} {limits}")
                break

    # The manifest as text, exactly as manifest.toml holds it.
    text = reader.text
    expected = "```toml\n" + (run / "manifest.toml").read_text() + "\n```"
    manifests = list(text[text.tag == "manifest"].value) if len(text) else []
    if not manifests:
        failures.append("no manifest text")
    elif any(m != expected for m in manifests):
        failures.append("the manifest text differs from manifest.toml")

    for f in failures:
        print("FAIL:", f)
    if not failures:
        print(f"ok: {len(got)} scalars ({len(tags)} tags, last step {tb.step.max()}), "
              f"{len(h)} histograms, {len(manifests)} manifest texts")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
