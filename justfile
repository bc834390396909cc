# az tasks. `just` lists them. Install just with `pip install rust-just` or `cargo install just`.

az := "cargo run --quiet --release -p az-cli --"

default:
    @just --list

# Train an experiment: `just run connect4` (an unknown name lists the experiments).
# Extra arguments go to `az run`: `just run connect4 --resume`, `--max-seconds 600`, `--set k=v`.
run experiment *args:
    {{az}} run {{experiment}} {{args}}

# A NATS server with JetStream on this machine, for `just learner` and `just actor`
# (installs it into target/nats on first use; its store under runs/nats)
nats port="4222" store="runs/nats":
    tools/install-nats.sh >/dev/null
    target/nats/bin/nats-server -js -sd {{store}} -p {{port}}

# Training on the games of actors: `just learner connect4 [--nats nats://host:4222] [--resume]`
learner experiment *args:
    {{az}} learner {{experiment}} {{args}}

# Self-play for a learner: `just actor connect4 [--nats nats://host:4222]` (as many as you like)
actor experiment *args:
    {{az}} actor {{experiment}} {{args}}

# TensorBoard on runs/ or one run: `just tb`, `just tb runs/tictactoe-...` (installs it
# into .venv-tb on first use if it is not on PATH)
tb logdir="runs" port="6006":
    #!/usr/bin/env bash
    set -euo pipefail
    if command -v tensorboard >/dev/null; then tb=tensorboard; else
        [ -x .venv-tb/bin/tensorboard ] || { python3 -m venv .venv-tb && .venv-tb/bin/pip install -q tensorboard; }
        tb=.venv-tb/bin/tensorboard
    fi
    "$tb" --logdir {{logdir}} --port {{port}}

# A trained agent against an opponent: `just eval runs/connect4-... mcts:1000 100`
eval target opponent="random" games="100":
    {{az}} eval {{target}} --opponent {{opponent}} --games {{games}}

# Play against a trained agent: `just play runs/tictactoe-... --human-first`
play target *args:
    {{az}} play {{target}} {{args}}

# Play and analyse in the browser: `just serve runs/connect4-...` then open the address
# it prints (loopback; a running run's newest checkpoint is followed)
serve target *args:
    {{az}} serve {{target}} {{args}}

# A trained network as a safetensors file: `just export runs/connect4-... -o net.safetensors`
# (tools/reference_net.py runs it with numpy alone)
export target *args:
    {{az}} export {{target}} {{args}}

# Exact values of positions on stdin: `echo 4455 | just solve connect4` (an empty
# line is the initial position; a slow line reports progress on stderr). Rewrite
# connect4's opening book (about 80 min on one core, docs/PERFORMANCE.md):
# `just solve connect4 --write-book games/connect4/positions/book.bin --plies 5`
solve game *args:
    {{az}} solve {{game}} --json {{args}}

# Count move sequences: `just perft connect4 8`
perft game depth:
    {{az}} perft {{game}} {{depth}}

# Registered games and experiment manifests
list:
    {{az}} list

# The GPU path in one script (<= 10 min): `just gpu-check cuda` on an NVIDIA GPU,
# `just gpu-check wgpu` on Vulkan/Metal/DX12 (CI: on lavapipe); summary in target/gpu-check
gpu-check mode="cuda":
    tools/gpu-check.sh {{mode}}

# Run the test suite (what CI runs; set AZ_TB_PYTHON to a Python with tbparse for the TensorBoard read-back)
test:
    cargo test --workspace --release

# Criterion benchmarks (all games' random playouts, ...)
bench:
    cargo bench --workspace

# One-line speed check of a game's move generator
bench-playouts game="connect4" seconds="3":
    {{az}} bench playouts --game {{game}} --seconds {{seconds}}

# Create games/NAME: a registered game crate that passes the conformance kit
new-game name:
    {{az}} new-game {{name}}

# Formatting, lints and the CUDA type-check, as CI runs them
check:
    cargo fmt --check
    cargo clippy --workspace --all-targets -- -D warnings
    DOCS_RS=1 cargo check -p az-cli --features cuda
