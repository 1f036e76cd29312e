#!/usr/bin/env python3
"""Learning benchmark: time from the feedback that triggers a retrain to the new
version serving, on SST-2 plus 1,000 feedback, cross-fitting included; beside the same
retrain job (3-fold cross-fitting over 4 feedback weights, then the final fit) done
with scikit-learn in this one run.

    python3 bench/learning.py            # RUNS=3 by default

Ours: a daemon bootstrapped on SST-2 whose config makes the 1,000th accepted feedback
row due at once (retrain.after_feedback = 1000, no quiet period). 999 rows from the
review domains go in over the operator socket, then the 1,000th; the clock runs from
its acknowledgement until /predict answers from the new version. Needs a release
build (done here) and the peers' virtualenv (PEERS_PYTHON, or created in
/tmp/sentiment-peers).
"""
import http.client
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(os.environ.get("SENTIMENT_SHARED_DATA", ROOT.parent / "shared" / "data")).resolve()
BIN = ROOT / "target" / "release" / "sentimentd"
RUNS = int(os.environ.get("RUNS", "3"))
FEEDBACK = 1000
WEIGHTS = [1.0, 2.0, 5.0, 10.0]
FOLDS = 3

sys.path.insert(0, str(Path(__file__).resolve().parent))
from engine import peers_python  # noqa: E402

CONFIG = """
[retrain]
schedule = "off"
after_feedback = 1000
quiet_seconds = 0
max_delay_seconds = 0
min_interval_seconds = 0
"""


class UnixConnection(http.client.HTTPConnection):
    def __init__(self, path):
        super().__init__("localhost")
        self.socket_path = str(path)

    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.connect(self.socket_path)


def call(conn, method, path, body=None):
    data = json.dumps(body).encode() if body is not None else None
    headers = {"Content-Type": "application/json"} if data else {}
    conn.request(method, path, body=data, headers=headers)
    response = conn.getresponse()
    payload = json.loads(response.read() or b"null")
    if response.status != 200:
        raise SystemExit(f"{method} {path}: {response.status} {payload}")
    return payload


def all_domain_rows():
    """Every review sentence of the other domains, as (text, label)."""
    rows = []
    for name in ["yelp.tsv", "amazon.tsv"]:
        with open(DATA / "domains" / name, encoding="utf-8") as f:
            next(f)
            for line in f:
                text, label = line.rstrip("\n").rsplit("\t", 1)
                rows.append((text, "positive" if label == "1" else "negative"))
    return rows


def domain_rows():
    return all_domain_rows()[:FEEDBACK]


def wait_socket(path, proc, timeout=300):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"sentimentd exited with {proc.returncode}")
        if Path(path).exists():
            try:
                conn = UnixConnection(path)
                call(conn, "GET", "/health")
                return conn
            except OSError:
                pass
        time.sleep(0.01)
    raise SystemExit("the daemon did not start")


def one_run(template, rows):
    with tempfile.TemporaryDirectory(prefix="sd-", dir="/tmp") as tmp:
        data_dir = Path(tmp) / "d"
        shutil.copytree(template / "models", data_dir / "models")
        config = Path(tmp) / "config.toml"
        config.write_text(CONFIG)
        # DAEMON_LOG=FILE keeps the daemon's log of each run (the retrain's stages).
        log = open(os.environ["DAEMON_LOG"], "a") if os.environ.get("DAEMON_LOG") else subprocess.DEVNULL
        proc = subprocess.Popen(
            [str(BIN), "serve", "--data-dir", str(data_dir), "--listen", "127.0.0.1:0",
             "--config", str(config), "--audit-share", "0"],
            stderr=log, stdout=subprocess.DEVNULL)
        try:
            conn = wait_socket(data_dir / "run" / "sentimentd.sock", proc)
            for text, label in rows[:-1]:
                call(conn, "POST", "/feedback", {"text": text, "correct_label": label})
            text, label = rows[-1]
            acknowledged = call(conn, "POST", "/feedback", {"text": text, "correct_label": label})
            started = time.perf_counter()
            while True:
                p = call(conn, "POST", "/admin/explain", {"text": text})
                if p["model_version"] != "v1":
                    break
                last = call(conn, "GET", "/admin/retrain")
                if (last.get("last") or {}).get("outcome") in ("rejected", "failed", "nothing_new"):
                    raise SystemExit(f"not promoted: {last['last']['message']}")
                if time.perf_counter() - started > 120:
                    raise SystemExit("no new version after 120 s")
                time.sleep(0.01)
            seconds = time.perf_counter() - started
            report = call(conn, "GET", "/admin/retrain")["last"]
            return seconds, report, acknowledged
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=30)


PEER = r"""
import hashlib, json, sys, time
import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
data, feedback_path, weights, folds = sys.argv[1], sys.argv[2], json.loads(sys.argv[3]), int(sys.argv[4])
def load(path):
    t, l = [], []
    with open(path, encoding="utf-8") as f:
        next(f)
        for line in f:
            a, b = line.rstrip("\n").rsplit("\t", 1); t.append(a); l.append(int(b))
    return t, l
base_t, base_l = load(data + "/sst2/train.tsv")
fb = json.load(open(feedback_path))
fb_t = [t for t, _ in fb]; fb_l = [1 if l == "positive" else 0 for _, l in fb]
texts = base_t + fb_t; labels = np.array(base_l + fb_l); n = len(base_t)
fold = [int(hashlib.sha256(t.lower().encode()).hexdigest()[:16], 16) % folds for t in fb_t]
start = time.perf_counter()
x = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True).fit_transform(texts)
scores = {}
for w in weights:
    right = 0
    for k in range(folds):
        sw = np.ones(len(texts)); idx = [n + i for i, f in enumerate(fold) if f == k]
        for i, f in enumerate(fold):
            sw[n + i] = 0.0 if f == k else w
        clf = LogisticRegression(C=4.0, max_iter=1000).fit(x, labels, sample_weight=sw)
        right += int((clf.predict(x[idx]) == labels[idx]).sum())
    scores[w] = right
best = max(weights, key=lambda w: scores[w])
sw = np.ones(len(texts)); sw[n:] = best
LogisticRegression(C=4.0, max_iter=1000).fit(x, labels, sample_weight=sw)
print(json.dumps({"peer": "scikit-learn", "seconds": time.perf_counter() - start, "fits": len(weights) * folds + 1}))
"""


def main():
    # --workspace: the features the tests build with, so neither rebuilds the other's.
    subprocess.run(["cargo", "build", "--release", "--workspace"], cwd=ROOT, check=True)
    rows = domain_rows()
    with tempfile.TemporaryDirectory(prefix="sd-", dir="/tmp") as tmp:
        template = Path(tmp) / "template"
        proc = subprocess.Popen(
            [str(BIN), "serve", "--data-dir", str(template), "--listen", "127.0.0.1:0",
             "--base-data", str(DATA / "sst2"), "--retrain-schedule", "off"],
            stderr=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
        wait_socket(template / "run" / "sentimentd.sock", proc)
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
        for leftover in ["sentiment.db", "sentiment.db-wal", "sentiment.db-shm"]:
            (template / leftover).unlink(missing_ok=True)
        feedback_file = Path(tmp) / "feedback.json"
        feedback_file.write_text(json.dumps(rows))
        ours, peers = [], []
        for run in range(RUNS):
            seconds, report, ack = one_run(template, rows)
            ours.append(seconds)
            comparison = report.get("comparison") or {}
            print(f"run {run + 1}: ours {seconds:.2f} s from the 1,000th acknowledgement to serving "
                  f"({report['version']}; retrain {comparison.get('seconds', 0):.2f} s, weight "
                  f"{comparison.get('feedback_weight')}); due was {ack.get('learning')!r}", file=sys.stderr)
            if os.environ.get("OURS_ONLY"):  # diagnosis only: no ratio is printed
                continue
            out = subprocess.run([peers_python(), "-c", PEER, str(DATA), str(feedback_file),
                                  json.dumps(WEIGHTS), str(FOLDS)],
                                 check=True, capture_output=True, text=True).stdout
            peer = json.loads(out.strip().splitlines()[-1])
            peers.append(peer["seconds"])
            print(f"run {run + 1}: scikit-learn, the same job ({peer['fits']} fits): {peer['seconds']:.2f} s",
                  file=sys.stderr)
    if not peers:
        print(f"\nours only: median {statistics.median(ours):.2f} s (runs: {', '.join(f'{s:.2f}' for s in ours)})")
        return
    ours_median, peer_median = statistics.median(ours), statistics.median(peers)
    print(f"\nfeedback -> new version serving (SST-2 + {FEEDBACK:,} feedback, {FOLDS} folds x {len(WEIGHTS)} weights), median of {RUNS}:")
    print(f"  sentimentd    {ours_median:.2f} s  (runs: {', '.join(f'{s:.2f}' for s in ours)})")
    print(f"  scikit-learn  {peer_median:.2f} s for the same retrain job, without serving  (runs: {', '.join(f'{s:.2f}' for s in peers)})")
    print(f"  ratio         {peer_median / ours_median:.1f}x")


if __name__ == "__main__":
    main()
