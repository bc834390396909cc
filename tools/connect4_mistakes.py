"""Which connect4 test positions a trained agent gets wrong, and how deep the
result it misjudged lies: the agent's search (`az analyze`) on a phase's
shipped positions, each mistake's position and played move solved exactly
(`az solve connect4`), then the kinds of mistake (win thrown to a draw, ...)
and, per mistake, how many plies after the position the decisive four falls
under perfect play: the loss the played move walks into, or the win it gives
up. Shallow depths are tactics a deeper search finds; deep ones are values the
network has not learnt.

    python tools/connect4_mistakes.py RUN_DIR [--phase middle] [--simulations 128]
        [--set mcts.root=puct ...] [--az target/release/az] [--list]

The search is the measuring agent of `az mistakes` (PUCT, no noise) unless
`--set` says otherwise. Scores are the solver's (games/connect4/src/solver.rs):
a win scores 22 minus the winner's stones at the end, a loss the negative.
"""

import argparse
import collections
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def shipped(phase):
    """(moves, good moves) of the phase's shipped test positions."""
    path = ROOT / "games" / "connect4" / "positions" / f"{phase}.txt"
    out = []
    for line in path.read_text().splitlines():
        if line.startswith("#") or not line.strip():
            continue
        fields = line.split()
        out.append((fields[1], set(fields[2:])))
    return out


def az_lines(az, args, text):
    """One JSON object per output line of `az ARGS` fed `text` on stdin."""
    done = subprocess.run([az, *args], input=text, capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"{az} {' '.join(args)} failed:\n{done.stderr.strip()}")
    return [json.loads(line) for line in done.stdout.splitlines() if line.strip()]


def win_ply(score, ply):
    """Ply at which the side to move at `ply` (score > 0) or its opponent
    (score < 0) plays its winning stone, both sides perfect."""
    stones = 22 - abs(score)
    winner_first = (ply % 2 == 0) == (score > 0)  # the first player moves at even plies
    return 2 * stones - 1 if winner_first else 2 * stones


def kind(score):
    return "win" if score > 0 else "draw" if score == 0 else "loss"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("run")
    ap.add_argument("--phase", default="middle", choices=["opening", "middle", "end"])
    ap.add_argument("--simulations", type=int, default=128)
    ap.add_argument("--set", action="append", default=None, metavar="KEY=VALUE")
    ap.add_argument("--az", default=str(ROOT / "target" / "release" / "az"))
    ap.add_argument("--list", action="store_true", help="print every mistake")
    a = ap.parse_args()
    sets = a.set if a.set is not None else ["mcts.root=puct"]

    tests = shipped(a.phase)
    analyze = ["analyze", a.run, "--simulations", str(a.simulations), "--json"]
    for s in sets:
        analyze += ["--set", s]
    played = az_lines(a.az, analyze, "".join(f"{m}\n" for m, _ in tests))
    if len(played) != len(tests):
        sys.exit(f"az analyze answered {len(played)} of {len(tests)} positions")
    wrong = [(m, r["best"]) for (m, good), r in zip(tests, played) if r["best"] not in good]

    queries = [q for m, mv in wrong for q in (m, m + mv)]
    solved = az_lines(a.az, ["solve", "connect4", "--json"], "".join(f"{q}\n" for q in queries))
    score = {r["position"]: r["score"] for r in solved}

    kinds = collections.Counter()
    depths = []
    for moves, mv in wrong:
        ply = len(moves)
        before, after = score[moves], -score[moves + mv]  # both for the side to move here
        kinds[f"{kind(before)} -> {kind(after)}"] += 1
        # The decisive four: the loss the move allows, else the win it gave up.
        if after < 0:
            depth = win_ply(-after, ply + 1) - ply
        else:
            depth = win_ply(before, ply) - ply
        depths.append(depth)
        if a.list:
            print(f"{moves} played {mv}: {kind(before)} ({before}) -> {kind(after)} ({after}), four {depth} plies on")

    n = len(tests)
    print(f"{a.run}: {len(wrong)} mistakes of {n} {a.phase} positions ({100 * len(wrong) / n:.1f} %)")
    for k, c in kinds.most_common():
        print(f"  {k}: {c}")
    if depths:
        d = sorted(depths)
        print(f"  plies from the position to the decisive four: min {d[0]}, median {d[len(d) // 2]}, max {d[-1]}")
        print(f"  within 8 plies: {sum(x <= 8 for x in d)}; within 16: {sum(x <= 16 for x in d)}")


if __name__ == "__main__":
    main()
