#!/usr/bin/env python3
"""az's policy-value network in numpy alone, from an `az export` safetensors file.

    python tools/reference_net.py NET.safetensors                # the architecture
    python tools/reference_net.py NET.safetensors --inputs X.npy # policy and value of X
    python tools/reference_net.py NET.safetensors --check        # against az's own outputs

`--check` reads the samples `az export --samples N` wrote beside the file
(NET.inputs.npy, NET.logits.npy, NET.values.npy), runs them here in float64 and
exits 1 when a logit, a policy probability or a value differs from az's by more
than --tolerance. The forward pass is the one the file's "forward" metadata
describes; batch norm is already folded into the convolutions.
"""
import argparse
import json
import struct
import sys
from pathlib import Path

import numpy as np

FORMAT = "az.inference.v1"


def load(path):
    """The tensors (float64) and the metadata of a safetensors file."""
    raw = Path(path).read_bytes()
    if len(raw) < 8:
        sys.exit(f"{path}: too short for a safetensors file")
    (size,) = struct.unpack("<Q", raw[:8])
    if 8 + size > len(raw):
        sys.exit(f"{path}: header of {size} bytes runs past the end of the file")
    header = json.loads(raw[8 : 8 + size])
    meta = header.pop("__metadata__", {})
    if meta.get("format") != FORMAT:
        sys.exit(f"{path}: format {meta.get('format')!r}, this script reads {FORMAT!r}")
    data = raw[8 + size :]
    tensors = {}
    for name, t in header.items():
        if t["dtype"] != "F32":
            sys.exit(f"{path}: tensor {name} is {t['dtype']}, expected F32")
        begin, end = t["data_offsets"]
        values = np.frombuffer(data[begin:end], dtype="<f4").astype(np.float64)
        tensors[name] = values.reshape(t["shape"])
    return tensors, meta


def conv(x, w, b):
    """Stride 1, zero padding k // 2: x [n, c, h, w], w [o, c, k, k] -> [n, o, h, w]."""
    k = w.shape[2]
    p = k // 2
    n, _, h, width = x.shape
    xp = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))
    out = np.zeros((n, w.shape[0], h, width))
    for dy in range(k):
        for dx in range(k):
            out += np.einsum("nchw,oc->nohw", xp[:, :, dy : dy + h, dx : dx + width], w[:, :, dy, dx])
    return out + b[None, :, None, None]


def relu(x):
    return np.maximum(x, 0.0)


def forward(t, meta, x):
    """Policy logits [n, actions] and values [n] of encoded positions x [n, planes, h, w]."""
    layer = lambda name, x: conv(x, t[name + ".weight"], t[name + ".bias"])
    linear = lambda name, x: x @ t[name + ".weight"].T + t[name + ".bias"]
    x = relu(layer("stem", x))
    for i in range(int(meta["blocks"])):
        y = relu(layer(f"blocks.{i}.a", x))
        x = relu(layer(f"blocks.{i}.b", y) + x)
    n = x.shape[0]
    logits = linear("policy_fc", relu(layer("policy_conv", x)).reshape(n, -1))
    v = relu(linear("value_fc1", relu(layer("value_conv", x)).reshape(n, -1)))
    value = np.tanh(linear("value_fc2", v)).reshape(n)
    return logits, value


def softmax(logits):
    e = np.exp(logits - logits.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def check(t, meta, prefix, tolerance):
    inputs = np.load(f"{prefix}.inputs.npy").astype(np.float64)
    want_logits = np.load(f"{prefix}.logits.npy").astype(np.float64)
    want_values = np.load(f"{prefix}.values.npy").astype(np.float64)
    logits, values = forward(t, meta, inputs)
    diffs = {
        "logits": float(np.abs(logits - want_logits).max()),
        "policy": float(np.abs(softmax(logits) - softmax(want_logits)).max()),
        "value": float(np.abs(values - want_values).max()),
    }
    ok = all(d <= tolerance for d in diffs.values())
    print(json.dumps({"positions": len(inputs), "max_abs_diff": diffs, "tolerance": tolerance, "ok": ok}))
    return ok


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("net", help="a file written by az export --format safetensors")
    ap.add_argument("--inputs", help="encoded positions, .npy [n, planes, height, width]")
    ap.add_argument("--check", action="store_true", help="compare with the samples az export wrote")
    ap.add_argument("--tolerance", type=float, default=1e-4)
    args = ap.parse_args()
    t, meta = load(args.net)
    if args.check:
        prefix = str(Path(args.net).with_suffix(""))
        sys.exit(0 if check(t, meta, prefix, args.tolerance) else 1)
    if args.inputs:
        logits, values = forward(t, meta, np.load(args.inputs).astype(np.float64))
        for p, v in zip(softmax(logits), values):
            print(json.dumps({"value": round(float(v), 6), "policy": [round(float(q), 6) for q in p]}))
        return
    print(json.dumps({k: meta[k] for k in sorted(meta)}, indent=1))
    for name, a in t.items():
        print(f"{name:<20} {list(a.shape)}")


if __name__ == "__main__":
    main()
