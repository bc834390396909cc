#!/usr/bin/env python3
"""Load on `az serve`: N clients on loopback, each playing the agent against
itself (POST /api/search for every move, at the server's simulations) for a
fixed time; prints the move latency (p50, p90, p99, max) and moves per second.

    az serve runs/connect4 --port 8080 &
    python3 tools/serve_load.py http://127.0.0.1:8080/ --clients 20 --seconds 60
"""
import argparse
import json
import random
import threading
import time
import urllib.error
import urllib.request


def post(url, body):
    req = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST",
                                 headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=120) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def client(base, seconds, seed, latencies, failures, lock):
    rng = random.Random(seed)
    end = time.time() + seconds
    while time.time() < end:
        info = json.loads(post(base + "api/position", {"moves": []})[1])
        moves = [rng.choice(info["legal"])["move"]]  # a different game each time
        while time.time() < end:
            t0 = time.perf_counter()
            code, text = post(base + "api/search", {"moves": moves})
            dt = time.perf_counter() - t0
            if code == 400 and "over" in text:
                break
            lines = [json.loads(l) for l in text.splitlines() if l.strip()]
            if code != 200 or not lines or "best" not in lines[-1] or not lines[-1].get("done"):
                with lock:
                    failures.append((code, text[:200]))
                return
            with lock:
                latencies.append(dt)
            moves.append(lines[-1]["best"])


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("url", help="the address az serve printed, e.g. http://127.0.0.1:8080/")
    ap.add_argument("--clients", type=int, default=20)
    ap.add_argument("--seconds", type=float, default=60)
    args = ap.parse_args()
    base = args.url if args.url.endswith("/") else args.url + "/"
    info = json.loads(urllib.request.urlopen(base + "api/info", timeout=30).read())
    latencies, failures, lock = [], [], threading.Lock()
    threads = [threading.Thread(target=client, args=(base, args.seconds, i, latencies, failures, lock))
               for i in range(args.clients)]
    t0 = time.time()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.time() - t0
    lat = sorted(latencies)
    q = lambda p: round(1000 * lat[min(len(lat) - 1, int(p * len(lat)))], 1) if lat else None
    print(json.dumps({
        "game": info["game"], "simulations": info["simulations"], "clients": args.clients,
        "seconds": round(wall, 1), "moves": len(lat), "moves_per_sec": round(len(lat) / wall, 1),
        "latency_ms": {"p50": q(0.50), "p90": q(0.90), "p99": q(0.99), "max": q(1.0)},
        "failures": len(failures), "first_failure": failures[0] if failures else None,
    }))
    raise SystemExit(1 if failures or not lat else 0)


if __name__ == "__main__":
    main()
