"""Compute against strength: several manifest variants x seeds, each run to the
same budget of self-play network evaluations, then one curve per variant
(mean over seeds, the band from the lowest to the highest seed) of strength
against the evaluations spent: search and policy mistake rates per game phase,
and the score against each fixed opponent. As in Jones 2021, "Scaling Scaling
Laws with Board Games" (strength against compute, one line per setting).

    python tools/compare.py run  SPEC.toml [--out DIR] [--az PATH] [--only NAME ...] [--seeds 1,2]
    python tools/compare.py plot DIR [--reference NAME]

`run` starts `az run` once per (seed, variant), seeds outermost so that a
partial comparison has every variant at the same seeds; a run that finished
is skipped, one that was stopped is resumed. `plot` reads the runs'
TensorBoard events (tbparse) and writes DIR/strength.png, DIR/wall.png,
DIR/summary.md and DIR/summary.json: per variant the final values over the
seeds and the evaluations it took to reach the reference variant's final
middle-game search mistake rate.

SPEC.toml (tools/compare/connect4.toml is one):

    experiment = "connect4"          # a name in experiments/ or a manifest path
    seeds = [1, 2, 3]
    max_evaluations = 8_000_000      # run.max_evaluations of every run
    set = ["eval.root=puct", "eval.simulations=128"]   # every run: the same measuring agent
    [[variant]]
    name = "puct128"
    set = []
    [[variant]]
    name = "gumbel16"
    set = ["mcts.root=gumbel", "mcts.simulations=16"]

Needs: pip install tbparse tensorboard matplotlib (plot only).
"""
import argparse
import json
import math
import os
import subprocess
import sys
import time

try:
    import tomllib
except ModuleNotFoundError:  # Python < 3.11
    import tomli as tomllib

PHASES = ("opening", "middle", "end")


def load_spec(path):
    with open(path, "rb") as f:
        spec = tomllib.load(f)
    for key in ("experiment", "seeds", "max_evaluations", "variant"):
        if key not in spec:
            sys.exit(f"{path}: missing `{key}` (see tools/compare.py's docstring)")
    names = [v.get("name") for v in spec["variant"]]
    if any(not n for n in names) or len(set(names)) != len(names):
        sys.exit(f"{path}: every [[variant]] needs a distinct `name` (got {names})")
    return spec


def run_all(args):
    spec = load_spec(args.spec)
    out = args.out or os.path.join("runs", "compare-" + os.path.splitext(os.path.basename(args.spec))[0])
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, "spec.json"), "w") as f:
        json.dump(spec, f, indent=1)
    seeds = [int(s) for s in args.seeds.split(",")] if args.seeds else spec["seeds"]
    variants = [v for v in spec["variant"] if not args.only or v["name"] in args.only]
    for seed in seeds:
        for v in variants:
            run_dir = os.path.join(out, f"{v['name']}-s{seed}")
            done = os.path.join(run_dir, "compare-done")
            if os.path.exists(done):
                print(f"[compare] {run_dir}: done", flush=True)
                continue
            cmd = [args.az, "run", spec["experiment"], "--no-progress", "--run-dir", run_dir]
            if os.path.isdir(run_dir):
                cmd.append("--resume")
            sets = [f"run.seed={seed}", f"run.max_evaluations={spec['max_evaluations']}"]
            sets += spec.get("set", []) + v.get("set", [])
            for s in sets:
                cmd += ["--set", s]
            print("[compare]", " ".join(cmd), flush=True)
            t0 = time.time()
            rc = subprocess.call(cmd)
            if rc != 0:
                sys.exit(f"[compare] {run_dir}: az run exited with {rc}; rerun the same command to resume")
            with open(done, "w") as f:
                f.write(f"{time.time() - t0:.0f} s\n")
    print(f"[compare] all runs done; python tools/compare.py plot {out}", flush=True)


def read_run(run_dir):
    """The run's scalars: {tag: [(evaluations, value, minutes)]} with evaluation
    results placed at the self-play evaluations spent when their weights were taken."""
    from tbparse import SummaryReader
    import numpy as np

    df = SummaryReader(os.path.join(run_dir, "events"), pivot=False, extra_columns={"wall_time"}).scalars
    if df.empty:
        return {}
    t0 = df.wall_time.min()
    spent = df[df.tag == "selfplay/evaluations"].sort_values(["step", "value"])
    # Evaluations at a training step: the first report at or after it (step 0:
    # the fresh weights, before any self-play).
    steps = spent[spent.step > 0].groupby("step").value.min()
    xs, ys = [0.0, *steps.index.astype(float)], [0.0, *steps.values]
    clock = df[df.tag == "loss/total"].sort_values("step")
    out = {}
    for tag, rows in df.groupby("tag"):
        if not (tag.startswith("mistakes/") or tag.startswith("eval/")):
            continue
        rows = rows.sort_values("step")
        evals = np.interp(rows.step.astype(float), xs, ys)
        minutes = np.interp(rows.step.astype(float), [0.0, *clock.step], [0.0, *((clock.wall_time - t0) / 60.0)])
        out[tag] = list(zip(evals, rows.value, minutes))
    return out


def smooth(curve, k=3):
    """Each evaluation's value averaged with its neighbours (k at most, centred):
    a mistake rate over 100 positions has a standard error of ~3 points."""
    half = k // 2
    out = []
    for i, (e, _, m) in enumerate(curve):
        window = curve[max(0, i - half): i + half + 1]
        out.append((e, sum(p[1] for p in window) / len(window), m))
    return out


def final(curve, k=3):
    """The mean of a curve's last k evaluations."""
    tail = curve[-k:]
    return sum(p[1] for p in tail) / len(tail)


def band(curves, grid):
    """Mean, low and high over the seeds' curves at `grid` (NaN past a curve's end)."""
    import numpy as np

    at = []
    for c in curves:
        x = np.array([p[0] for p in c])
        y = np.array([p[1] for p in c])
        v = np.interp(grid, x, y)
        v[(grid < x.min()) | (grid > x.max())] = np.nan
        at.append(v)
    at = np.array(at)
    with np.errstate(all="ignore"):
        return np.nanmean(at, 0), np.nanmin(at, 0), np.nanmax(at, 0)


def plot_all(args):
    import matplotlib
    import numpy as np

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    with open(os.path.join(args.dir, "spec.json")) as f:
        spec = json.load(f)
    names = [v["name"] for v in spec["variant"]]
    runs = {}
    for entry in sorted(os.listdir(args.dir)):
        path = os.path.join(args.dir, entry)
        name, _, seed = entry.rpartition("-s")
        if os.path.isdir(path) and name in names and seed.isdigit():
            runs.setdefault(name, {})[int(seed)] = read_run(path)
    if not runs:
        sys.exit(f"{args.dir}: no runs of {names}")
    tags = sorted({t for seeds in runs.values() for r in seeds.values() for t in r})
    panels = [f"mistakes/{k}/{p}" for k in ("search", "policy", "value") for p in PHASES]
    panels = [t for t in panels if t in tags]  # runs before 2026-12-07 have no value
    panels += [t for t in tags if t.startswith("eval/") and t.endswith("/score") and "previous" not in t]
    budget = float(spec["max_evaluations"])
    grid = np.linspace(0.0, budget, 81)
    summary = {"budget": budget, "variants": {}}

    for axis, fname in (("evaluations", "strength.png"), ("minutes", "wall.png")):
        cols = 3
        rows = math.ceil(len(panels) / cols)
        fig, axes = plt.subplots(rows, cols, figsize=(5 * cols, 3.6 * rows), squeeze=False)
        for ax, tag in zip(axes.flat, panels):
            for name in names:
                seeds = runs.get(name, {})
                curves = [r[tag] for r in seeds.values() if r.get(tag)]
                if not curves:
                    continue
                if axis == "minutes":
                    curves = [[(m, v, e) for e, v, m in c] for c in curves]
                    top = max(c[-1][0] for c in curves)
                    g = np.linspace(0.0, top, 81)
                else:
                    g = grid
                mean, lo, hi = band(curves, g)
                x = g / 1e6 if axis == "evaluations" else g
                line = ax.plot(x, mean, label=f"{name} ({len(curves)} seeds)")[0]
                ax.fill_between(x, lo, hi, color=line.get_color(), alpha=0.2)
            ax.set_title(tag)
            ax.set_xlabel("self-play network evaluations (millions)" if axis == "evaluations" else "wall time (minutes)")
            ax.grid(alpha=0.3)
        for ax in list(axes.flat)[len(panels):]:
            ax.axis("off")
        axes.flat[0].legend(fontsize=8)
        fig.tight_layout()
        fig.savefig(os.path.join(args.dir, fname), dpi=100)
        plt.close(fig)
        print("wrote", os.path.join(args.dir, fname))

    reference = args.reference or names[0]
    # Levels of the reference's final strength, and which way is better.
    score_tags = [t for t in panels if t.startswith("eval/")]
    targets = [(t, "low") for t in ("mistakes/search/middle", "mistakes/policy/middle") if t in panels]
    targets += [(t, "high") for t in score_tags]
    levels = {}
    for tag, _ in targets:
        ref = [final(r[tag]) for r in runs.get(reference, {}).values() if r.get(tag)]
        if ref:
            levels[tag] = float(np.mean(ref))
    lines = [f"# {spec['experiment']}: {len(names)} variants, budget {budget / 1e6:g} M self-play evaluations", ""]
    lines.append("Final values (each run's mean over its last 3 evaluations; mean [lowest, highest] over the seeds):")
    lines.append("")
    head = ["variant", "seeds"] + [t.replace("mistakes/", "") for t in panels]
    lines.append("| " + " | ".join(head) + " |")
    lines.append("|" + "---|" * len(head))
    for name in names:
        seeds = runs.get(name, {})
        row = [name, ",".join(str(s) for s in sorted(seeds))]
        entry = {"seeds": sorted(seeds), "final": {}, "evaluations_to_reference": {}}
        for tag in panels:
            finals = [final(r[tag]) for r in seeds.values() if r.get(tag)]
            if finals:
                row.append(f"{np.mean(finals):.3f} [{min(finals):.3f}, {max(finals):.3f}]")
                entry["final"][tag] = {"mean": float(np.mean(finals)), "low": float(min(finals)),
                                       "high": float(max(finals))}
            else:
                row.append("–")
        lines.append("| " + " | ".join(row) + " |")
        summary["variants"][name] = entry
    lines.append("")
    lines.append(f"Self-play evaluations (millions, and share of the budget) until a variant reaches "
                 f"{reference}'s final level: the first of 81 points where the mean over its seeds of "
                 "each run's curve, smoothed over 3 neighbouring evaluations, is at that level or better; "
                 "per seed in brackets.")
    lines.append("")
    head = ["variant"] + [f"{t.replace('mistakes/', '')} {'≤' if d == 'low' else '≥'} {levels[t]:.3f}"
                          for t, d in targets if t in levels]
    lines.append("| " + " | ".join(head) + " |")
    lines.append("|" + "---|" * len(head))

    def reach(curves, tag, better):
        mean, _, _ = band(curves, grid)
        ok = mean <= levels[tag] + 1e-9 if better == "low" else mean >= levels[tag] - 1e-9
        hit = np.nonzero(ok)[0]
        return float(grid[hit[0]]) if len(hit) else None

    for name in names:
        seeds = runs.get(name, {})
        row = [name]
        for tag, better in targets:
            if tag not in levels:
                continue
            curves = {s: smooth(r[tag]) for s, r in seeds.items() if r.get(tag)}
            if not curves:
                row.append("–")
                continue
            at = reach(list(curves.values()), tag, better)
            each = [reach([c], tag, better) for c in curves.values()]
            each = ", ".join("–" if e is None else f"{e / 1e6:.1f}" for e in each)
            summary["variants"][name]["evaluations_to_reference"][tag] = at
            row.append("not reached" if at is None else f"{at / 1e6:.2f} ({at / budget:.2f}) [{each}]")
        lines.append("| " + " | ".join(row) + " |")
    with open(os.path.join(args.dir, "summary.md"), "w") as f:
        f.write("\n".join(lines) + "\n")
    with open(os.path.join(args.dir, "summary.json"), "w") as f:
        json.dump(summary, f, indent=1)
    print("\n".join(lines))
    return 0


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("run", help="run every variant x seed to the budget")
    r.add_argument("spec")
    r.add_argument("--out", help="comparison directory (default runs/compare-<spec name>)")
    r.add_argument("--az", default=os.environ.get("AZ", "target/release/az"), help="the az binary")
    r.add_argument("--only", nargs="*", help="only these variants")
    r.add_argument("--seeds", help="comma-separated seeds instead of the spec's")
    q = sub.add_parser("plot", help="curves and summary of a comparison directory")
    q.add_argument("dir")
    q.add_argument("--reference", help="the variant whose final middle-game search mistake rate is the target (default: the first)")
    args = p.parse_args()
    return run_all(args) if args.cmd == "run" else plot_all(args)


if __name__ == "__main__":
    sys.exit(main() or 0)
