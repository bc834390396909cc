# az tasks. `just` lists them. Install just with `pip install rust-just` or `cargo install just`.

az := "cargo run --quiet --release -p az-cli --"

default:
    @just --list

# Count move sequences: `just perft connect4 8`
perft game depth:
    {{az}} perft {{game}} {{depth}}

# Registered games and experiment manifests
list:
    {{az}} list

# Run the test suite (what CI runs)
test:
    cargo test --workspace

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
