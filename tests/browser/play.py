#!/usr/bin/env python3
"""Plays full games in real headless Chromium against `az serve`, through clicks
on the page's board (Debian's chromium and chromedriver, driven over the W3C
WebDriver protocol with the standard library alone).

For each game: a short `az run` (or --run GAME=DIR), `az serve` on a free
loopback port, a browser that picks a side, clicks random legal cells (or the
pass button) until the game ends, and checks that
  - the agent answered every move of the user's (the page's move list grows by
    two per click, or ends the game) with a legal one: `az perft GAME 1 --moves`
    replays the whole line and refuses an illegal move;
  - the result the page shows is the one on the board it draws: k in a row of
    one colour (3 on tic-tac-toe, 4 on connect4) or a full board for a draw;
and saves a screenshot to --out. Every process it starts is bounded and killed.

    python3 tests/browser/play.py --az target/release/az --out target/browser
"""
import argparse
import base64
import json
import os
import random
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

# The games and what ends them on their grids: (experiment, side the user plays, k in a row).
GAMES = {"tictactoe": ("first", 3), "connect4": ("second", 4)}
STEP_TIMEOUT = 120  # seconds for any one thing to happen on the page


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def request(method, url, body=None, timeout=60):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, method=method, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return json.loads(r.read() or b"null")
    except urllib.error.HTTPError as e:
        raise RuntimeError(f"{method} {url}: {e.code} {e.read()[:500]!r}") from None


class Browser:
    """A chromedriver process and one headless Chromium session."""

    def __init__(self, chromium, chromedriver):
        self.port = free_port()
        self.proc = subprocess.Popen([chromedriver, f"--port={self.port}"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.base = f"http://127.0.0.1:{self.port}"
        deadline = time.time() + 30
        while True:
            try:
                if request("GET", self.base + "/status", timeout=5)["value"]["ready"]:
                    break
            except (OSError, RuntimeError):
                pass
            if time.time() > deadline:
                self.close()
                raise RuntimeError("chromedriver did not start in 30 s")
            time.sleep(0.2)
        caps = {"capabilities": {"alwaysMatch": {"browserName": "chrome", "goog:chromeOptions": {
            "binary": chromium,
            "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1200,860"],
        }}}}
        self.session = request("POST", self.base + "/session", caps, timeout=90)["value"]["sessionId"]
        self.url = f"{self.base}/session/{self.session}"

    def go(self, url):
        request("POST", self.url + "/url", {"url": url})

    def js(self, script, *args):
        return request("POST", self.url + "/execute/sync", {"script": script, "args": list(args)})["value"]

    def click(self, css):
        el = request("POST", self.url + "/element", {"using": "css selector", "value": css})["value"]
        eid = next(iter(el.values()))
        request("POST", f"{self.url}/element/{eid}/click", {})

    def screenshot(self, path):
        png = request("GET", self.url + "/screenshot")["value"]
        Path(path).write_bytes(base64.b64decode(png))

    def close(self):
        try:
            if getattr(self, "session", None):
                request("DELETE", self.url, timeout=10)
        except (OSError, RuntimeError):
            pass
        self.proc.kill()
        self.proc.wait()


STATE = """
const s = document.getElementById('status');
return {
  busy: document.body.dataset.busy, outcome: s.dataset.outcome, ply: s.dataset.ply, text: s.textContent,
  moves: document.getElementById('moves').dataset.moves || '',
  clickable: [...document.querySelectorAll('.cell.clickable')].map(c => +c.dataset.cell),
  pieces: [...document.querySelectorAll('.cell')].map(c => c.dataset.piece),
  pass: !document.getElementById('pass').hidden,
  error: document.getElementById('error').textContent,
};
"""


def wait(browser, what, ready):
    deadline = time.time() + STEP_TIMEOUT
    while True:
        st = browser.js(STATE)
        if st["error"]:
            raise AssertionError(f"the page shows an error while waiting for {what}: {st['error']}")
        if ready(st):
            return st
        if time.time() > deadline:
            raise AssertionError(f"no {what} after {STEP_TIMEOUT} s: {st}")
        time.sleep(0.1)


def k_in_row(pieces, rows, cols, k):
    """The colour with k in a row on the grid, 'draw' on a full board without one, else None."""
    at = lambda r, c: pieces[r * cols + c] if 0 <= r < rows and 0 <= c < cols else ""
    for r in range(rows):
        for c in range(cols):
            p = at(r, c)
            if p in ("first", "second"):
                for dr, dc in ((0, 1), (1, 0), (1, 1), (1, -1)):
                    if all(at(r + i * dr, c + i * dc) == p for i in range(k)):
                        return p
    return "draw" if all(pieces) else None


def train(az, game, work):
    run = Path(work) / game
    subprocess.run([az, "run", game, "--no-progress", "--max-seconds", "20", "--run-dir", str(run),
                    "--set", "train.min_replay=300", "--set", "train.checkpoint_every=50",
                    "--set", 'eval.opponents=["random"]', "--set", "eval.games=2",
                    "--set", "eval.mistake_positions=0"], check=True, timeout=300, stdout=subprocess.DEVNULL)
    return run


def play_one(az, browser, game, run, out, rng):
    side, k = GAMES[game]
    serve = subprocess.Popen([az, "serve", str(run), "--port", "0"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        first = serve.stdout.readline()
        m = re.search(r"http://[0-9.:]+/", first)
        if not m:
            raise AssertionError(f"az serve printed no address: {first!r} {serve.stderr.read()!r}")
        url = m.group(0)
        info = request("GET", url + "api/info")
        rows, cols = info["rows"], info["cols"]
        browser.go(f"{url}?mode={side}")
        wait(browser, "the board", lambda st: st["pieces"])
        clicks = 0
        while True:
            st = wait(browser, "the user's turn or the end",
                      lambda st: st["busy"] == "0" and (st["outcome"] or st["clickable"] or st["pass"]))
            if st["outcome"]:
                break
            before = len(st["moves"].split())
            if st["clickable"]:
                browser.click(f'.cell.clickable[data-cell="{rng.choice(st["clickable"])}"]')
            else:
                browser.click("#pass")
            clicks += 1
            after = wait(browser, "the agent's answer",
                         lambda st: st["busy"] == "0" and (st["outcome"] or len(st["moves"].split()) >= before + 2))
            grown = len(after["moves"].split()) - before
            assert grown == 2 or (after["outcome"] and grown in (1, 2)), f"{game}: a click added {grown} moves: {after}"
        line = st["moves"]
        perft = subprocess.run([az, "perft", game, "1", "--moves", line, "--json"], capture_output=True, text=True, timeout=60)
        assert perft.returncode == 0, f"{game}: the line {line!r} is not legal: {perft.stdout}{perft.stderr}"
        assert len(line.split()) == int(st["ply"]), f"{game}: {line!r} against ply {st['ply']}"
        shown, drawn = st["outcome"], k_in_row(st["pieces"], rows, cols, k)
        assert shown == drawn, f"{game}: the page says {shown!r}, the board it draws says {drawn!r} ({line})"
        shot = Path(out) / f"serve-{game}.png"
        browser.screenshot(shot)
        # Analysis of the game's middle position, from a link: the search drawn on the board.
        middle = ",".join(line.split()[: max(1, len(line.split()) // 2)])
        browser.go(f"{url}?mode=analysis&moves={middle}")
        st = wait(browser, "the analysis", lambda st: st["busy"] == "0" and st["moves"] and
                  browser.js("return document.getElementById('progress').textContent").count("…") == 0
                  and browser.js("return document.querySelectorAll('.cell .heat').length") > 0)
        assert st["moves"].replace(" ", ",") == middle, f"{game}: the link's position {middle} shows {st['moves']}"
        browser.screenshot(Path(out) / f"serve-{game}-analysis.png")
        print(json.dumps({"game": game, "user": side, "clicks": clicks, "moves": line, "result": shown, "screenshot": str(shot)}))
    finally:
        serve.kill()
        serve.wait()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--az", default="target/release/az")
    ap.add_argument("--out", default="target/browser")
    ap.add_argument("--run", action="append", default=[], help="GAME=RUN_DIR to use instead of a short run")
    ap.add_argument("--chromium", default=shutil.which("chromium") or "/usr/bin/chromium")
    ap.add_argument("--chromedriver", default=shutil.which("chromedriver") or "/usr/bin/chromedriver")
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    for exe in (args.chromium, args.chromedriver, args.az):
        if not os.access(exe, os.X_OK):
            sys.exit(f"{exe}: not found (Debian's chromium and chromium-driver, and a built az)")
    Path(args.out).mkdir(parents=True, exist_ok=True)
    given = dict(r.split("=", 1) for r in args.run)
    rng = random.Random(args.seed)
    with tempfile.TemporaryDirectory(prefix="az-browser-") as work:
        runs = {g: Path(given[g]) if g in given else train(args.az, g, work) for g in GAMES}
        browser = Browser(args.chromium, args.chromedriver)
        try:
            for game in GAMES:
                play_one(args.az, browser, game, runs[game], args.out, rng)
        finally:
            browser.close()
    print("browser: 2 games played through the page")


if __name__ == "__main__":
    main()
