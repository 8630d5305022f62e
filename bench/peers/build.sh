#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Builds the benchmark peers: installs what is missing from Debian, installs
# the npm dependencies from package-lock.json, and compiles bin/go-melody.
# Safe to run repeatedly.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")"
PEERS_DIR=$(pwd)

log() { printf 'build.sh: %s\n' "$*" >&2; }

as_root() {
    if [ "$(id -u)" -eq 0 ]; then
        "$@"
    elif command -v sudo >/dev/null 2>&1; then
        sudo "$@"
    else
        log "need root to run: $*"
        return 1
    fi
}

# --- Debian packages -------------------------------------------------------
missing=()
command -v go >/dev/null 2>&1 || missing+=(golang-go)
dpkg -s golang-github-gorilla-websocket-dev >/dev/null 2>&1 \
    || missing+=(golang-github-gorilla-websocket-dev)
command -v node >/dev/null 2>&1 || missing+=(nodejs)
# Node builds that are not Debian's (e.g. nodesource) ship npm themselves;
# installing Debian's npm next to them would conflict, so only add it when
# the command is absent.
command -v npm >/dev/null 2>&1 || missing+=(npm)

if [ ${#missing[@]} -gt 0 ]; then
    log "installing: ${missing[*]}"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}"
fi

# --- npm dependencies ------------------------------------------------------
# npm ci writes node_modules/.package-lock.json last; when it is newer than
# both manifests the tree is already what the lockfile describes.
if [ -f node_modules/.package-lock.json ] \
    && [ node_modules/.package-lock.json -nt package-lock.json ] \
    && [ node_modules/.package-lock.json -nt package.json ]; then
    log "node_modules up to date"
else
    log "npm ci"
    npm ci --no-audit --no-fund
fi

# --- Go peer ---------------------------------------------------------------
# Built in GOPATH mode against the Debian-packaged gorilla/websocket, with no
# module proxy.
if [ -z "${GOCACHE:-}" ] && [ -z "${HOME:-}" ] && [ -z "${XDG_CACHE_HOME:-}" ]; then
    export GOCACHE="$PEERS_DIR/bin/.gocache"
fi
mkdir -p bin
log "go build -> bin/go-melody ($(go version))"
(
    cd go-melody
    GO111MODULE=off GOPATH=/usr/share/gocode GOPROXY=off GOFLAGS= \
        go build -trimpath -o "$PEERS_DIR/bin/go-melody" .
)

log "done"
