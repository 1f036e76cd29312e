#!/usr/bin/env bash
# Property-based API testing with schemathesis 4 (PyPI) against a live daemon: every
# operation in /openapi.json is called with generated requests (valid and invalid)
# and every check schemathesis has runs (`--checks all`: no 5xx, status codes, content
# types, headers and bodies as documented, valid data accepted and invalid data
# refused, 405 for methods a route does not serve, auth not ignored...).
# Usage: scripts/schemathesis.sh [MAX_EXAMPLES] (default 30)
#
# Starts `sentimentd serve` on a free loopback port in a temporary data directory
# with auth on and an admin key (so operator routes are reached too), bootstrapped
# from the shared SST-2 data, and stops it on exit. Run in CI by daemon/tests/schemathesis.rs (20 examples per operation).
set -euo pipefail
cd "$(dirname "$0")/.."

examples="${1:-30}"
command -v schemathesis >/dev/null || {
  echo "error: schemathesis is not installed: pip install schemathesis==4.32.5" >&2
  exit 1
}
shared="${SENTIMENT_SHARED_DATA:-$(cd .. && pwd)/shared/data}"
# SENTIMENTD_BIN: a built daemon to test instead of building one here.
bin="${SENTIMENTD_BIN:-}"
if [ -z "$bin" ]; then
  target_dir="${CARGO_TARGET_DIR:-target}"
  cargo build --release -q --workspace  # the tests' feature set: no rebuild
  bin="$target_dir/release/sentimentd"
fi

work="$(mktemp -d /tmp/sd-st-XXXXXX)"
daemon_pid=""
cleanup() {
  if [ -n "$daemon_pid" ]; then
    kill "$daemon_pid" 2>/dev/null || true
    wait "$daemon_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

# A small base (the first 8,000 SST-2 rows; SST-2 validation as the test split).
mkdir -p "$work/base"
head -n 8001 "$shared/sst2/train.tsv" >"$work/base/train.tsv"
cp "$shared/sst2/validation.tsv" "$work/base/validation.tsv"
key="$("$bin" keys add --keys-file "$work/keys.toml" --name schemathesis --tier unlimited --role admin)"
port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
env -u SENTIMENT_CONFIG -u HF_ENDPOINT HOME="$work" "$bin" serve --data-dir "$work/data" \
  --listen "127.0.0.1:$port" --base-data "$work/base" --auth on --keys-file "$work/keys.toml" \
  --retrain-schedule off 2>"$work/daemon.log" &
daemon_pid=$!
for _ in $(seq 1 600); do
  if curl -sf "http://127.0.0.1:$port/health" >/dev/null 2>&1; then break; fi
  if ! kill -0 "$daemon_pid" 2>/dev/null; then cat "$work/daemon.log" >&2; exit 1; fi
  sleep 0.1
done

# /events streams for ever (schemathesis would wait for the end of the body until the
# request timeout); everything else is tested.
# From the temporary directory: schemathesis 4 keeps a crash cache (.schemathesis/) in
# the working directory, which does not belong in the repository.
set +e
cd "$work"
schemathesis run "http://127.0.0.1:$port/openapi.json" \
  --checks all \
  --header "Authorization: Bearer $key" \
  --exclude-path /events \
  --max-examples "$examples" \
  --seed 1 \
  --request-timeout 30 \
  --workers 1 \
  --generation-database none \
  --no-color
status=$?
set -e
if grep -q "panicked" "$work/daemon.log"; then
  echo "the daemon panicked:" >&2
  grep -A5 "panicked" "$work/daemon.log" >&2
  status=1
fi
exit "$status"
