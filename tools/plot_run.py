"""Learning curves of an az run from its TensorBoard events (read with tbparse),
against wall time: losses, mistake rates per game phase, scores against the
baselines, Elo. Writes PNGs.

    python tools/plot_run.py RUN_DIR OUT_PREFIX
    # OUT_PREFIX-losses.png, -mistakes.png, -scores.png, -elo.png

Needs: pip install tbparse tensorboard matplotlib
"""
import sys

import matplotlib
import numpy as np
import pandas as pd

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from tbparse import SummaryReader  # noqa: E402


def main() -> int:
    run, out = sys.argv[1], sys.argv[2]
    df = SummaryReader(f"{run}/events", pivot=False, extra_columns={"wall_time"}).scalars
    if df.empty:
        print("no scalars in", run)
        return 1
    t0 = df.wall_time.min()
    df["minutes"] = (df.wall_time - t0) / 60.0
    # Evaluations finish after their weights were taken: place them at that time.
    taken = df[df.tag == "eval/weights_at_seconds"].set_index("step").value / 60.0
    late = df.tag.str.startswith("eval/") | df.tag.str.startswith("mistakes/")
    # Older runs lack that scalar: the time training reached the evaluated step.
    clock = df[df.tag == "loss/total"].sort_values("step")
    reached = np.interp(df.loc[late, "step"], [0, *clock.step], [0.0, *clock.minutes])
    df.loc[late, "minutes"] = df.loc[late, "step"].map(taken).fillna(pd.Series(reached, index=df.loc[late].index))

    def plot(tags, title, ylabel, name, labels=None):
        fig, ax = plt.subplots(figsize=(7, 4))
        drawn = 0
        for i, tag in enumerate(tags):
            d = df[df.tag == tag].sort_values("minutes")
            if d.empty:
                continue
            ax.plot(d.minutes, d.value, marker="o" if len(d) < 40 else None, ms=3,
                    label=labels[i] if labels else tag)
            drawn += 1
        if not drawn:
            plt.close(fig)
            return
        ax.set_title(title)
        ax.set_xlabel("wall time (minutes)")
        ax.set_ylabel(ylabel)
        ax.grid(alpha=0.3)
        ax.legend()
        fig.tight_layout()
        fig.savefig(f"{out}-{name}.png", dpi=110)
        plt.close(fig)
        print("wrote", f"{out}-{name}.png")

    # loss/ownership: runs with an ownership head ([model] ownership) only.
    plot(["loss/total", "loss/policy", "loss/value", "loss/ownership"], "Training loss", "loss",
         "losses")
    phases = ["opening", "middle", "end"]
    kinds = ("search", "policy", "value")  # runs before 2026-12-07 have no value
    plot([f"mistakes/{k}/{p}" for k in kinds for p in phases],
         "Moves that worsen the exact result (oracle)", "share of positions", "mistakes",
         [f"{k} {p}" for k in kinds for p in phases])
    score_tags = sorted(t for t in df.tag.unique() if t.startswith("eval/") and t.endswith("/score"))
    plot(score_tags, "Score against opponents (win 1, draw 1/2)", "score", "scores",
         [t.split("/")[1] for t in score_tags])
    plot(["eval/elo"], "Elo ladder (each evaluation against the previous)", "Elo", "elo")
    return 0


if __name__ == "__main__":
    sys.exit(main())
