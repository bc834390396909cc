"""az-mcts beside OpenSpiel's C++ MCTS on connect4, interleaved in one run.

Both play a game forward from the empty board with a fresh search per move
(or, with --initial, both search the empty board every move),
800 simulations per move, one thread. OpenSpiel runs with 1, 2, 4 and 8 random
rollouts per leaf; its one-rollout rate is measured and its tree-only rate is the
intercept of seconds/sim = a + b * rollouts (its wheel cannot take a free
evaluator). az runs with its uniform (free) evaluator and with one rollout.

    python3 -m venv /tmp/az-peers && /tmp/az-peers/bin/pip install -r ../../../shared/peers/requirements.txt
    cargo build --release -p az-cli
    /tmp/az-peers/bin/python benches/peers/compare_mcts.py [--runs 3]

Prints one line per measurement and a final JSON object with medians and ratios.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PEERS = os.path.join(os.path.dirname(ROOT), "shared", "peers")
AZ = os.path.join(ROOT, "target", "release", "az")
MARK = "@@RESULT "


def az(sims, moves, evaluator, searches, initial):
    out = subprocess.run(
        [AZ, "bench", "mcts", "--game", "connect4", "--simulations", str(sims),
         "--moves", str(moves), "--evaluator", evaluator, "--searches", str(searches), "--json"]
        + (["--initial"] if initial else []),
        check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def openspiel(sims, moves, initial):
    out = subprocess.run(
        [sys.executable, "bench_openspiel_cpp.py", "--sims", str(sims), "--moves", str(moves),
         "--rollouts", "1", "2", "4", "8"] + ([] if initial else ["--play"]),
        cwd=PEERS, check=True, capture_output=True, text=True).stdout
    recs = [json.loads(l[len(MARK):]) for l in out.splitlines() if l.startswith(MARK)]
    by = {r["evaluator"]: r["sims_per_s"]["median"] for r in recs}
    return by["random_rollout_x1"], by["extrapolated_0_rollouts"]


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--sims", type=int, default=800)
    p.add_argument("--az-moves", type=int, default=500)
    p.add_argument("--openspiel-moves", type=int, default=20)
    p.add_argument("--initial", action="store_true",
                   help="search the initial position every move (OpenSpiel's default) instead of playing forward")
    args = p.parse_args()
    rows = {k: [] for k in ("az_uniform", "az_uniform_k8", "az_rollout1", "os_tree", "os_rollout1")}
    for run in range(1, args.runs + 1):
        rows["az_uniform"].append(az(args.sims, args.az_moves, "uniform", 1, args.initial)["sims_per_sec"])
        rows["az_uniform_k8"].append(az(args.sims, args.az_moves, "uniform", 8, args.initial)["sims_per_sec"])
        rows["az_rollout1"].append(az(args.sims, args.az_moves, "rollout", 1, args.initial)["sims_per_sec"])
        r1, tree = openspiel(args.sims, args.openspiel_moves, args.initial)
        rows["os_rollout1"].append(r1)
        rows["os_tree"].append(tree)
        print(f"run {run}: " + ", ".join(f"{k} {v[-1]:,.0f}" for k, v in rows.items()), flush=True)
    med = {k: statistics.median(v) for k, v in rows.items()}
    result = {
        "position": "initial" if args.initial else "selfplay", "sims_per_move": args.sims, "runs": args.runs, "median_sims_per_sec": med,
        "ratio_uniform_vs_openspiel_tree": med["az_uniform"] / med["os_tree"],
        "ratio_rollout1_vs_openspiel_rollout1": med["az_rollout1"] / med["os_rollout1"],
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
