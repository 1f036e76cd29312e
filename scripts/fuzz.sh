#!/usr/bin/env bash
# Runs every cargo-fuzz target for a bounded time (default 30 s each) and fails if
# any of them finds a crash. Usage: scripts/fuzz.sh [SECONDS] [TARGET...]
#
# libFuzzer needs nightly-only compiler flags; RUSTC_BOOTSTRAP=1 lets the stable
# toolchain accept them. Needs `cargo install cargo-fuzz` once. Not run in CI (it is
# the long version of the proptest suites that CI runs). Crashes are saved under
# fuzz/artifacts/TARGET/; replay one with `cargo fuzz run TARGET FILE`.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds="${1:-30}"
shift || true
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  targets=(normalise artifact artifact_payload read_tsv read_csv read_jsonl read_parquet request_json)
fi
command -v cargo-fuzz >/dev/null || {
  echo "error: cargo-fuzz is not installed: run \`cargo install cargo-fuzz\`" >&2
  exit 1
}
export RUSTC_BOOTSTRAP=1
shared="${SENTIMENT_SHARED_DATA:-$(cd .. && pwd)/shared/data}"

# Seed corpora with real inputs so the fuzzers start past the signature and headers.
seed() {
  local target="$1" dir="fuzz/corpus/$1"
  mkdir -p "$dir"
  [ -n "$(ls -A "$dir" 2>/dev/null)" ] && return 0
  case "$target" in
    read_tsv) head -c 4096 "$shared/sst2/validation.tsv" >"$dir/sst2.tsv" ;;
    read_csv) printf 'text,label\n"a fine, funny film",1\nawful,0\n' >"$dir/a.csv" ;;
    read_jsonl) printf '{"text": "great", "label": 1}\n{"sentence": "dull", "label": "negative"}\n' >"$dir/a.jsonl" ;;
    read_parquet) cp "$shared/hub/datasets/stanfordnlp/sst2/data/validation-00000-of-00001.parquet" "$dir/" ;;
    artifact)
      # A real (small) model file.
      local tmp
      tmp="$(mktemp -d)"
      head -n 2001 "$shared/sst2/train.tsv" >"$tmp/train.tsv"
      cargo run --release -q -p sentimentd -- train --data "$tmp/train.tsv" --out "$dir/model.bin" >/dev/null 2>&1
      rm -rf "$tmp"
      ;;
    artifact_payload)
      # The payload of a real model small enough for -max_len: the file minus its
      # 52-byte header.
      local tmp
      tmp="$(mktemp -d)"
      head -n 301 "$shared/sst2/train.tsv" >"$tmp/train.tsv"
      cargo run --release -q -p sentimentd -- train --data "$tmp/train.tsv" --out "$tmp/model.bin" >/dev/null 2>&1
      tail -c +53 "$tmp/model.bin" >"$dir/payload.bin"
      rm -rf "$tmp"
      ;;
    request_json) printf '{"text": "great", "correct_label": 1, "confidence": 0.9}' >"$dir/a.json"
      printf '{"texts": ["a", "b"]}' >"$dir/b.json" ;;
    normalise) printf "I don\xe2\x80\x99t  LIKE it!\tNot bad" >"$dir/a.txt" ;;
  esac
}

failed=()
for target in "${targets[@]}"; do
  seed "$target"
  echo "== $target: ${seconds}s"
  # -s none: the engine is safe Rust; the sanitizer would only slow the C parts.
  if cargo fuzz run -O -s none "$target" "fuzz/corpus/$target" -- \
      -max_total_time="$seconds" -rss_limit_mb=2048 -max_len=65536 2>"fuzz/$target.log"; then
    grep -E "^Done|#[0-9]+.*DONE" "fuzz/$target.log" | tail -1 || true
  else
    echo "   FOUND A CRASH: see fuzz/$target.log and fuzz/artifacts/$target/"
    failed+=("$target")
  fi
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "crashes in: ${failed[*]}" >&2
  exit 1
fi
echo "no crashes in ${#targets[@]} targets (${seconds}s each)"
