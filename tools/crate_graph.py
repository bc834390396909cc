#!/usr/bin/env python3
"""The workspace's crate graph, read from the Cargo.toml files, and the design's
rules about its arrows (docs/ARCHITECTURE.md): prints one line per crate (its
internal dependencies, then the external ones that matter for the rules) and
exits 1 naming every broken rule.

    python3 tools/crate_graph.py [--dot]

Only [dependencies] count (not dev-dependencies: tests may use anything);
"depends on" means directly or through other workspace crates.
"""

import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WATCHED = ("burn", "burn-flex", "flume", "rayon", "tokio", "async-nats", "gemm")


def crates():
    out = {}
    for manifest in sorted(list(ROOT.glob("crates/*/Cargo.toml")) + list(ROOT.glob("games/*/Cargo.toml"))):
        data = tomllib.loads(manifest.read_text())
        name = data["package"]["name"]
        deps = set(data.get("dependencies", {}))
        out[name] = {
            "dir": str(manifest.parent.relative_to(ROOT)),
            "internal": sorted(d for d in deps if d.startswith("az-")),
            "external": sorted(d for d in deps if d in WATCHED),
        }
    return out


def closure(graph, name):
    seen, todo = set(), list(graph[name]["internal"])
    while todo:
        d = todo.pop()
        if d in seen or d not in graph:
            continue
        seen.add(d)
        todo.extend(graph[d]["internal"])
    return seen


def external_closure(graph, name):
    ext = set(graph[name]["external"])
    for d in closure(graph, name):
        ext |= set(graph[d]["external"])
    return ext


def check(graph):
    broken = []
    for name, c in graph.items():
        deps = closure(graph, name)
        if c["dir"].startswith("games/"):
            extra = set(c["internal"]) - {"az-game"}
            if extra:
                broken.append(f"{name} (a game) depends on {sorted(extra)}: games depend on az-game only")
            bad = external_closure(graph, name) & {"burn", "burn-flex", "flume", "rayon", "tokio"}
            if bad:
                broken.append(f"{name} (a game) pulls in {sorted(bad)}")
        if name != "az-cli" and ({"az-run", "az-cli"} & deps):
            broken.append(f"{name} depends on {sorted({'az-run', 'az-cli'} & deps)}: only the binary may")
    for name in ("az-game", "az-mcts"):
        bad = external_closure(graph, name) & {"burn", "burn-flex", "flume", "rayon", "tokio"}
        if bad:
            broken.append(f"{name} pulls in {sorted(bad)}: it must know no Burn, flume, rayon")
    for name in ("az-replay", "az-train", "az-record"):
        if name in graph:
            bad = closure(graph, name) & {"az-selfplay", "az-mcts", "az-infer"}
            if bad:
                broken.append(f"{name} depends on {sorted(bad)}: the learner side must not build self-play")
    for name, c in graph.items():
        if name != "az-cli" and "tokio" in external_closure(graph, name) and name != "az-cluster":
            broken.append(f"{name} pulls in tokio: only the transport crate may")
    return broken


def main():
    graph = crates()
    if "--dot" in sys.argv:
        print("digraph az {")
        for name, c in graph.items():
            for d in c["internal"]:
                print(f'  "{name}" -> "{d}";')
        print("}")
        return 0
    width = max(map(len, graph))
    for name, c in sorted(graph.items(), key=lambda kv: (len(closure(graph, kv[0])), kv[0])):
        ext = f"   [{', '.join(c['external'])}]" if c["external"] else ""
        print(f"{name:<{width}} -> {', '.join(c['internal']) or '-'}{ext}")
    broken = check(graph)
    for b in broken:
        print(f"RULE BROKEN: {b}", file=sys.stderr)
    print(f"{len(graph)} crates; {'all rules hold' if not broken else f'{len(broken)} rules broken'}")
    return 1 if broken else 0


if __name__ == "__main__":
    sys.exit(main())
