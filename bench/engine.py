#!/usr/bin/env python3
"""Engine benchmark: our SST-2 accuracy, training time and batch prediction rate beside
scikit-learn's and fastText's (the peers in ../shared/peers), all run in this one
invocation on this machine, with the ratios.

    python3 bench/engine.py            # one run of each
    RUNS=3 python3 bench/engine.py     # medians of three

Needs a release build (done here) and the peers' virtualenv: set PEERS_PYTHON to its
python, or let this script create one in /tmp/sentiment-peers from
../shared/peers/requirements.txt (PyPI only).
"""
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(os.environ.get("SENTIMENT_SHARED_DATA", ROOT.parent / "shared" / "data")).resolve()
PEERS = DATA.parent / "peers"
RUNS = int(os.environ.get("RUNS", "1"))
BIN = ROOT / "target" / "release" / "sentimentd"


def peers_python():
    if os.environ.get("PEERS_PYTHON"):
        return os.environ["PEERS_PYTHON"]
    venv = Path("/tmp/sentiment-peers")
    python = venv / "bin" / "python"
    if not python.exists():
        print(f"creating the peers' virtualenv in {venv} ...", file=sys.stderr)
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run([str(venv / "bin" / "pip"), "install", "-q", "-r", str(PEERS / "requirements.txt")], check=True)
    return str(python)


def run_json(cmd):
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1] if out.strip().startswith("{\"peer\"") else out)


def ours():
    with tempfile.TemporaryDirectory() as tmp:
        model = Path(tmp) / "sst2.bin"
        trained = run_json([str(BIN), "train", "--data", str(DATA / "sst2"), "--out", str(model), "--json"])
        # Same measurement as the peers: batch-predict the 67,349 training texts.
        evaluated = run_json([str(BIN), "eval", "--model", str(model), "--data", str(DATA / "sst2" / "train.tsv"), "--json"])
        # Load time: fresh process, median of several loads of the file.
        loads = [run_json([str(BIN), "eval", "--model", str(model), "--data", str(DATA / "sst2" / "validation.tsv"), "--json"])["model_load_seconds"] for _ in range(5)]
        return {
            "peer": "sentimentd",
            "accuracy": trained["metadata"]["evaluations"]["validation"]["accuracy"],
            "train_seconds": trained["train_seconds"],
            "batch_predictions_per_second": evaluated["predictions_per_second"],
            "model_load_seconds": statistics.median(loads),
            "model_bytes": trained["model_bytes"],
        }


def median_of(runs):
    keys = [k for k, v in runs[0].items() if isinstance(v, (int, float))]
    out = dict(runs[0])
    for k in keys:
        out[k] = statistics.median(r[k] for r in runs)
    return out


def main():
    subprocess.run(["cargo", "build", "--release", "-q", "--workspace"], cwd=ROOT, check=True)
    python = peers_python()
    results = []
    for name, fn in [
        ("sentimentd", ours),
        ("scikit-learn", lambda: run_json([python, str(PEERS / "sklearn_train.py"), str(DATA)])),
        ("fasttext", lambda: run_json([python, str(PEERS / "fasttext_train.py"), str(DATA)])),
    ]:
        runs = []
        for i in range(RUNS):
            started = time.time()
            runs.append(fn())
            print(f"{name} run {i + 1}/{RUNS} done in {time.time() - started:.1f} s", file=sys.stderr)
        results.append(median_of(runs))

    us = results[0]
    print(f"\nSST-2 (train {DATA / 'sst2/train.tsv'}, validation 872 texts); medians of {RUNS} run(s)\n")
    print(f"{'engine':<14}{'val. accuracy':>15}{'train s':>10}{'batch pred/s':>15}{'train speed-up':>16}{'predict speed-up':>18}")
    for r in results:
        train_ratio = r["train_seconds"] / us["train_seconds"]
        predict_ratio = us["batch_predictions_per_second"] / r["batch_predictions_per_second"]
        label = "" if r is us else f"{train_ratio:>15.2f}x{predict_ratio:>17.2f}x"
        print(f"{r['peer']:<14}{r['accuracy'] * 100:>14.2f}%{r['train_seconds']:>10.3f}{r['batch_predictions_per_second']:>15,.0f}{label}")
    print(f"\n(speed-up = how many times faster sentimentd is than that engine)")
    print(f"sentimentd model file: {us['model_bytes'] / 1048576:.2f} MiB, loads in {us['model_load_seconds'] * 1000:.1f} ms (median of 5 fresh processes)")
    print(json.dumps({"results": results}))


if __name__ == "__main__":
    main()
