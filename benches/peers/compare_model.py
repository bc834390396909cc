"""`az bench model` beside the same network in PyTorch (CPU), interleaved runs.

    /tmp/az-peers/bin/pip install torch
    cargo build --release -p az-cli
    /tmp/az-peers/bin/python benches/peers/compare_model.py connect4 [--runs 3] [--batch 256]

Prints a line per run and a JSON object with medians and ratios (az / PyTorch).

`az` raises glibc's malloc mmap and trim thresholds itself at start (see
crates/cli/src/allocator.rs). PyTorch runs twice per round: as installed
(`torch_*`, the ratios) and with the same thresholds through GLIBC_TUNABLES
(`torch_tuned_*`, the `*_ratio_tuned_torch` ratios), since it gains from them too.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
AZ = os.path.join(ROOT, "target", "release", "az")
SIZES = {  # experiment -> torch_model.py arguments (the game's encoding and actions)
    "tictactoe": ["--planes", "3", "--height", "3", "--width", "3", "--actions", "9"],
    "connect4": ["--planes", "4", "--height", "6", "--width", "7", "--actions", "7"],
    "othello": ["--planes", "3", "--height", "8", "--width", "8", "--actions", "65"],
}


# The thresholds az sets with mallopt (crates/cli/src/allocator.rs), for PyTorch.
TUNABLES = "glibc.malloc.mmap_threshold=33554432:glibc.malloc.trim_threshold=134217728"


def last_json(cmd, **kw):
    out = subprocess.run(cmd, check=True, capture_output=True, text=True, **kw).stdout
    return json.loads(out.strip().splitlines()[-1])


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("experiment")
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--batch", type=int, default=256)
    p.add_argument("--seconds", type=float, default=4.0)
    p.add_argument("--set", action="append", default=[], help="manifest override for az")
    a = p.parse_args()
    sets = [x for s in a.set for x in ("--set", s)]
    rows = {k: [] for k in ("az_infer", "az_train", "torch_infer", "torch_train",
                            "torch_tuned_infer", "torch_tuned_train")}
    env = {k: v for k, v in os.environ.items() if k != "GLIBC_TUNABLES"}
    tuned = dict(env, GLIBC_TUNABLES=TUNABLES)
    for run in range(1, a.runs + 1):
        az = last_json([AZ, "bench", "model", a.experiment, "--batch", str(a.batch), "--seconds",
                        str(a.seconds), "--json"] + sets, env=env)
        torch_args = SIZES[az["game"]] + ["--blocks", str(az["blocks"]), "--channels", str(az["channels"]),
                                          "--value-hidden", str(az["value_hidden"]),
                                          "--value-channels", str(az["value_channels"]),
                                          "--batch", str(a.batch), "--seconds", str(a.seconds)]
        torch_cmd = [sys.executable, os.path.join(os.path.dirname(__file__), "torch_model.py")] + torch_args
        t = last_json(torch_cmd, env=env)
        tt = last_json(torch_cmd, env=tuned)
        rows["az_infer"].append(az["inference_positions_per_sec"])
        rows["az_train"].append(az["train_samples_per_sec"])
        rows["torch_infer"].append(t["inference_positions_per_sec"])
        rows["torch_train"].append(t["train_samples_per_sec"])
        rows["torch_tuned_infer"].append(tt["inference_positions_per_sec"])
        rows["torch_tuned_train"].append(tt["train_samples_per_sec"])
        print(f"run {run}: " + ", ".join(f"{k} {v[-1]:,.0f}" for k, v in rows.items()), flush=True)
    med = {k: statistics.median(v) for k, v in rows.items()}
    print(json.dumps({"experiment": a.experiment, "batch": a.batch, "median": med,
                      "mflop_per_position": az["mflop_per_position"],
                      "inference_ratio": med["az_infer"] / med["torch_infer"],
                      "train_ratio": med["az_train"] / med["torch_train"],
                      "inference_ratio_tuned_torch": med["az_infer"] / med["torch_tuned_infer"],
                      "train_ratio_tuned_torch": med["az_train"] / med["torch_tuned_train"],
                      "az_allocator": az.get("allocator"), "az_conv": az.get("conv")}))


if __name__ == "__main__":
    main()
