#!/usr/bin/env bash
# The GPU path, checked in one script of at most 10 minutes:
#   tools/gpu-check.sh cuda    an NVIDIA GPU through CUDA (build: --features cuda)
#   tools/gpu-check.sh wgpu    a GPU through wgpu: Vulkan, Metal or DX12 (--features wgpu);
#                              CI runs this mode on Mesa's lavapipe (a Vulkan driver on the CPU)
# Steps: build az and the cross-device tests, run those tests on the device,
# `az bench model` at three batch sizes, `az bench selfplay`, a short `az run`,
# then one summary JSON. A failing step is recorded and the script goes on; its
# exit code is 1 if any step failed.
#
# Environment (all optional):
#   GPU_CHECK_OUT       where the logs and summary.json go (default target/gpu-check)
#   GPU_CHECK_PROFILE   cargo profile: release (default, CI), dev, or any other
#   GPU_CHECK_SMALL=1   a correctness device (lavapipe): tic-tac-toe and the
#                       connect4 experiment's small network, short timings
#   GPU_CHECK_RUN_SECONDS  length of the `az run` (default 300; 40 when small)
#   AZ_WGPU_ADAPTER     the wgpu adapter (a model.adapter value; default "default")
#   AZ_BIN, AZ_XDEV_TEST  prebuilt az binary and cross-device test executable: no
#                       build (a machine that cannot reach crates.io)
# Building the cuda feature downloads an LLVM bundle from GitHub (cubecl-cuda's
# build script, tracel-llvm-bundler) besides the crates: the machine needs that
# address, and an NVIDIA driver with CUDA's nvrtc library at run time.
set -uo pipefail
cd "$(dirname "$0")/.."

mode=${1:-}
case "$mode" in
cuda) device=cuda ;;
wgpu) device=wgpu ;;
*)
    echo "usage: tools/gpu-check.sh cuda|wgpu" >&2
    exit 2
    ;;
esac
out=${GPU_CHECK_OUT:-target/gpu-check}
profile=${GPU_CHECK_PROFILE:-release}
small=${GPU_CHECK_SMALL:-0}
adapter=${AZ_WGPU_ADAPTER:-default}
export AZ_WGPU_ADAPTER=$adapter
mkdir -p "$out"
# wgpu warns about XDG_RUNTIME_DIR unless it names a writable directory.
export XDG_RUNTIME_DIR=${XDG_RUNTIME_DIR:-$(mktemp -d)}
started=$(date +%s)
failed=0
steps=()

# step <name> <seconds limit> <command...>: runs it with its output in $out/<name>.log.
step() {
    local name=$1 limit=$2
    shift 2
    local t0 code
    t0=$(date +%s)
    echo "=== $name ($(date +%T)): $*"
    timeout --kill-after=10 "$limit" "$@" >"$out/$name.log" 2>&1
    code=$?
    tail -n 15 "$out/$name.log"
    [ "$code" = 0 ] || failed=1
    steps+=("{\"step\":\"$name\",\"exit\":$code,\"seconds\":$(($(date +%s) - t0))}")
    return "$code"
}

sets=(--set "model.device=$device")
[ "$device" = wgpu ] && sets+=(--set "model.adapter=$adapter")
if [ "$small" = 1 ]; then
    model_exp=connect4 selfplay_exp=tictactoe run_exp=tictactoe
    batches=(64 128 256) seconds=1 selfplay_seconds=5
    run_seconds=${GPU_CHECK_RUN_SECONDS:-40}
else
    model_exp=connect4-cuda selfplay_exp=connect4-cuda run_exp=connect4-cuda
    batches=(256 1024 4096) seconds=3 selfplay_seconds=20
    run_seconds=${GPU_CHECK_RUN_SECONDS:-300}
fi
# The run's final evaluation without the exact solver (minutes per early position).
run_sets=(--set 'eval.opponents=["random", "mcts:1000"]' --set eval.games=10)
# lavapipe evaluates a few hundred positions a second: fewer simulations, so
# that 40 s reach training.
[ "$small" = 1 ] && run_sets=(--set 'eval.opponents=["random"]' --set eval.games=10
    --set mcts.simulations=16 --set train.min_replay=200)

if [ -z "${AZ_BIN:-}" ]; then
    flags=(-p az-cli --features "$device" --profile "$profile")
    # One build: the test build makes the az binary too (with the same features;
    # a separate `cargo build` resolves features without the dev-dependencies
    # and rebuilds most of Burn a second time).
    step build 2400 cargo test "${flags[@]}" --test cross_device --no-run
    dir=target/$([ "$profile" = dev ] && echo debug || echo "$profile")
    AZ_BIN=$dir/az
    AZ_XDEV_TEST=$(ls -t "$dir"/deps/cross_device-* 2>/dev/null | grep -v '\.d$' | head -n 1)
fi
echo "az: $AZ_BIN; cross-device tests: ${AZ_XDEV_TEST:-none}"

# The cross-device tests, on this device (they run az as $AZ_BIN).
export AZ_BIN
if [ -n "${AZ_XDEV_TEST:-}" ]; then
    step cross-device 400 "$AZ_XDEV_TEST" --test-threads 1 --nocapture
else
    echo "no cross-device test executable"
    failed=1
fi

for b in "${batches[@]}"; do
    step "bench-model-$b" 300 "$AZ_BIN" bench model "$model_exp" --batch "$b" --seconds "$seconds" --json "${sets[@]}"
done
step bench-selfplay 300 "$AZ_BIN" bench selfplay "$selfplay_exp" --model network --seconds "$selfplay_seconds" --json "${sets[@]}"
run_dir=$out/run
rm -rf "$run_dir"
step run $((run_seconds + 240)) "$AZ_BIN" run "$run_exp" --run-dir "$run_dir" --no-progress --max-seconds "$run_seconds" "${sets[@]}" "${run_sets[@]}"

# The summary: every JSON line the benches printed, the run's last progress and
# evaluation lines, and each step's exit code.
last_json() { [ -f "$1" ] && grep '^{' "$1" | tail -n 1 || true; }
{
    echo "{\"mode\":\"$mode\",\"adapter\":\"$adapter\",\"small\":$([ "$small" = 1 ] && echo true || echo false),"
    echo "\"host\":\"$(hostname)\",\"date\":\"$(date -u +%FT%TZ)\",\"seconds\":$(($(date +%s) - started)),"
    echo "\"steps\":[$(IFS=,; echo "${steps[*]}")],"
    echo "\"bench_model\":["
    first=1
    for b in "${batches[@]}"; do
        j=$(last_json "$out/bench-model-$b.log")
        [ -n "$j" ] || j=null
        [ $first = 1 ] || echo ","
        echo "$j"
        first=0
    done
    echo "],"
    j=$(last_json "$out/bench-selfplay.log")
    echo "\"bench_selfplay\":${j:-null},"
    log=$run_dir/log.txt
    progress=$( [ -f "$log" ] && grep -E '^ *[0-9]+s step [0-9]+ ' "$log" | tail -n 1 | python3 -c 'import json,sys; print(json.dumps(sys.stdin.read().strip()))' || echo null)
    evals=$( [ -f "$log" ] && grep -E '^eval ' "$log" | tail -n 3 | python3 -c 'import json,sys; print(json.dumps(sys.stdin.read().strip()))' || echo null)
    echo "\"run\":{\"experiment\":\"$run_exp\",\"seconds\":$run_seconds,\"last_progress\":$progress,\"last_evals\":$evals}"
    echo "}"
} >"$out/summary.json.tmp"
python3 -m json.tool "$out/summary.json.tmp" >"$out/summary.json" || { cp "$out/summary.json.tmp" "$out/summary.json"; failed=1; }
rm -f "$out/summary.json.tmp"
echo "=== summary: $out/summary.json"
cat "$out/summary.json"
exit "$failed"
