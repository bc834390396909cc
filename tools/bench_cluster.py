#!/usr/bin/env python3
"""Distributed mode's transport on one machine: a NATS server, one `az learner`
and N `az actor`s (N = 1, 2, 4 by default) for a fixed time each, then the same
experiment as one `az run`. Prints, per N:

- publish rate: games/s the actors saw acknowledged by the stream (their
  --stored-ids files), over the measured window;
- ingest rate: games/s that reached the learner's replay chunks (chunk headers),
  over the same window, and its ratio to the publish rate;
- weights delay: from the learner publishing weights to an actor playing with
  them (the learner's cluster/weights_delay_* scalars), median and max;
- self-play positions/s of 1 actor + learner beside `az run`'s (the
  transport's cost), both read from their scalars.jsonl over the window.

    python3 tools/bench_cluster.py [--az target/release/az] [--experiment tictactoe]
        [--actors 1,2,4] [--warmup 15] [--seconds 30] [--set key=value ...]

The experiment's train.train_ratio is lowered (default --set
train.train_ratio=0.25) so that the learner's trainer never holds games back:
this measures the transport, not the pacing. Everything shares this machine's
cores; say what else it was doing.
"""

import argparse
import json
import os
import shutil
import socket
import statistics
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BASE_SETS = [
    "eval.every=0",
    "replay.capacity=50000000",
    "replay.flush_seconds=1",
    "train.train_ratio=0.25",
    "cluster.publish_every=20",
]


def nats_binary():
    env = os.environ.get("AZ_NATS_SERVER")
    for c in [env, ROOT / "target/nats/bin/nats-server", shutil.which("nats-server")]:
        if c and Path(c).exists():
            return str(c)
    sys.exit("no nats-server: run tools/install-nats.sh or set AZ_NATS_SERVER")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def chunk_games(run_dir):
    """Games in the replay chunks (from each chunk's header)."""
    total = 0
    for p in (Path(run_dir) / "replay").glob("chunk-*.azr"):
        b = p.read_bytes()
        name_len = struct.unpack_from("<H", b, 12)[0]
        total += struct.unpack_from("<I", b, 14 + name_len + 4)[0]
    return total


def stored(files):
    n = 0
    for f in files:
        try:
            n += sum(1 for _ in open(f))
        except FileNotFoundError:
            pass
    return n


def scalars(run_dir, tag, t0, t1):
    """Values of `tag` reported between t0 and t1 seconds of the run. Lines
    carry no time: each report ends with run/elapsed_seconds, which dates the
    lines before it."""
    out, pending = [], []
    path = Path(run_dir) / "scalars.jsonl"
    if not path.exists():
        return out
    for line in open(path):
        r = json.loads(line)
        if r.get("tag") == "run/elapsed_seconds":
            if t0 <= r["value"] <= t1:
                out.extend(pending)
            pending = []
        elif r.get("tag") == tag:
            pending.append(r["value"])
    return out


def stop(procs):
    for p in procs:
        if p.poll() is None:
            p.send_signal(2)
    for p in procs:
        try:
            p.wait(timeout=60)
        except subprocess.TimeoutExpired:
            p.kill()


def distributed(args, n, work):
    port = free_port()
    url = f"nats://127.0.0.1:{port}"
    server = subprocess.Popen(
        [nats_binary(), "-js", "-p", str(port), "-sd", str(work / f"store-{n}")],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(1.0)
    run_dir = work / f"learner-{n}"
    sets = sum((["--set", s] for s in BASE_SETS + args.set), [])
    log = open(work / f"learner-{n}.txt", "w")
    start = time.time()
    procs = [subprocess.Popen([args.az, "learner", args.experiment, "--nats", url, "--run-dir",
                               str(run_dir), "--no-progress"] + sets, stdout=log, stderr=log)]
    ids = [work / f"stored-{n}-{k}.txt" for k in range(n)]
    for k in range(n):
        alog = open(work / f"actor-{n}-{k}.txt", "w")
        procs.append(subprocess.Popen([args.az, "actor", args.experiment, "--nats", url,
                                       "--stored-ids", str(ids[k])] + sets,
                                      stdout=alog, stderr=alog))
    try:
        time.sleep(args.warmup)
        t1, s1, r1 = time.time(), stored(ids), chunk_games(run_dir)
        time.sleep(args.seconds)
        t2, s2, r2 = time.time(), stored(ids), chunk_games(run_dir)
    finally:
        stop(procs[1:])
        stop(procs[:1])
        server.terminate()
        server.wait()
    dt = t2 - t1
    a, b = t1 - start, t2 - start
    med = scalars(run_dir, "cluster/weights_delay_median_s", a, b)
    mx = scalars(run_dir, "cluster/weights_delay_max_s", a, b)
    pos = scalars(run_dir, "cluster/ingest_positions_per_sec", a, b)
    return {
        "actors": n,
        "publish_games_per_s": (s2 - s1) / dt,
        "ingest_games_per_s": (r2 - r1) / dt,
        "ingest_over_publish": (r2 - r1) / max(s2 - s1, 1),
        "weights_delay_median_s": statistics.median(med) if med else None,
        "weights_delay_max_s": max(mx) if mx else None,
        "ingest_positions_per_s": statistics.mean(pos) if pos else None,
    }


def single(args, work):
    run_dir = work / "run"
    sets = sum((["--set", s] for s in BASE_SETS + args.set), [])
    log = open(work / "run.txt", "w")
    start = time.time()
    p = subprocess.Popen([args.az, "run", args.experiment, "--run-dir", str(run_dir),
                          "--no-progress"] + sets, stdout=log, stderr=log)
    time.sleep(args.warmup)
    t1 = time.time()
    time.sleep(args.seconds)
    t2 = time.time()
    stop([p])
    pos = scalars(run_dir, "selfplay/positions_per_sec", t1 - start, t2 - start)
    return statistics.mean(pos) if pos else None


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--az", default=str(ROOT / "target/release/az"))
    ap.add_argument("--experiment", default="tictactoe")
    ap.add_argument("--actors", default="1,2,4")
    ap.add_argument("--warmup", type=float, default=15)
    ap.add_argument("--seconds", type=float, default=30)
    ap.add_argument("--set", action="append", default=[])
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="az-bench-cluster-"))
    results = [distributed(args, int(n), work) for n in args.actors.split(",")]
    run_pos = single(args, work)
    for r in results:
        print(json.dumps(r))
    one = next((r for r in results if r["actors"] == 1), None)
    if one and run_pos and one["ingest_positions_per_s"]:
        print(json.dumps({"az_run_positions_per_s": run_pos,
                          "one_actor_over_az_run": one["ingest_positions_per_s"] / run_pos}))
    print(f"logs and run directories: {work}", file=sys.stderr)


if __name__ == "__main__":
    main()
