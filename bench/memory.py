#!/usr/bin/env python3
"""Memory benchmark: what training and a long-running daemon cost in resident memory,
and how close /predict comes to the HTTP ceiling, all in this one run.

    python3 bench/memory.py                  # every part
    PARTS=train python3 bench/memory.py      # some parts: train, daemon, http
    RETRAINS=20 MIXED=20 python3 bench/memory.py

Parts:
- train: `sentimentd train` on SST-2, 5 runs back to back ("warm": the memory the last
  run gave back is still at hand) and 5 interleaved with scikit-learn's training
  (ours, scikit-learn, ours, ...: every run of ours starts "cold", after another
  process had the memory). Peak resident memory of each run from the kernel's own
  accounting (wait4), train_seconds as the command reports it; medians.
- daemon: a daemon bootstrapped on SST-2 takes 1,000 feedback rows, then RETRAINS
  (100) retrains, one new feedback row before each (a retrain without new feedback
  does nothing); its resident memory after start, along the retrains, and after a
  MIXED-second (60) wrk load of predictions and feedback.
- http: /predict beside an axum JSON hello-world (daemon/examples/hello_json.rs) and
  the same server running the daemon's model and nothing else (the ceiling for any
  /predict with this model), the same wrk load (-t2 -c32, one JSON POST) on each in
  turn; /feedback acknowledged/s.

Needs wrk (apt-get install wrk), a release build (done here) and the peers'
virtualenv for the train part (PEERS_PYTHON, or created in /tmp/sentiment-peers).
"""
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))
from engine import DATA, PEERS, peers_python  # noqa: E402
from learning import all_domain_rows, call, wait_socket  # noqa: E402
from serve import free_port, lua_script, rss_mib, stop, texts, wait_ready, wrk  # noqa: E402

BIN = ROOT / "target" / "release" / "sentimentd"
HELLO = ROOT / "target" / "release" / "examples" / "hello_json"
RUNS = int(os.environ.get("RUNS", "5"))
RETRAINS = int(os.environ.get("RETRAINS", "100"))
MIXED = int(os.environ.get("MIXED", "60"))
PARTS = os.environ.get("PARTS", "train,daemon,http").split(",")


def run_measured(cmd):
    """Runs `cmd`; returns (stdout, peak resident MiB) from the kernel's accounting."""
    with tempfile.TemporaryFile() as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.DEVNULL)
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode != 0:
            raise SystemExit(f"{cmd[0]} exited with {proc.returncode}")
        out.seek(0)
        return out.read().decode(), usage.ru_maxrss / 1024


def last_json(text):
    text = text.strip()
    return json.loads(text if text.startswith("{\n") else text.splitlines()[-1])


def train_part():
    python = peers_python()
    with tempfile.TemporaryDirectory(prefix="sd-mem-") as tmp:
        ours_cmd = [str(BIN), "train", "--data", str(DATA / "sst2" / "train.tsv"),
                    "--out", f"{tmp}/m.bin", "--json"]
        peer_cmd = [python, str(PEERS / "sklearn_train.py"), str(DATA)]

        def ours():
            out, peak = run_measured(ours_cmd)
            return last_json(out)["train_seconds"], peak

        def peer():
            out, peak = run_measured(peer_cmd)
            return last_json(out)["train_seconds"], peak

        ours()  # warm-up: page cache, the binary's pages
        warm = [ours() for _ in range(RUNS)]
        cold, peers = [], []
        for _ in range(RUNS):
            cold.append(ours())
            peers.append(peer())
    med = lambda runs, i: statistics.median(r[i] for r in runs)
    print(f"\nTraining on SST-2 (67,349 texts), medians of {RUNS}")
    print(f"  {'':34}{'train s':>9}{'peak MiB':>10}")
    print(f"  {'sentimentd, back to back (warm)':34}{med(warm, 0):>9.3f}{med(warm, 1):>10.1f}"
          f"   runs {', '.join(f'{s:.3f}' for s, _ in warm)}")
    print(f"  {'sentimentd, interleaved (cold)':34}{med(cold, 0):>9.3f}{med(cold, 1):>10.1f}"
          f"   runs {', '.join(f'{s:.3f}' for s, _ in cold)}")
    print(f"  {'scikit-learn, interleaved':34}{med(peers, 0):>9.3f}{med(peers, 1):>10.1f}")
    print(f"  cold / warm {med(cold, 0) / med(warm, 0):.2f}x; scikit-learn / sentimentd interleaved "
          f"{med(peers, 0) / med(cold, 0):.2f}x; largest peak of ours {max(p for _, p in warm + cold):.1f} MiB")


DAEMON_CONFIG = """
[feedback]
max_per_address_per_day = 0
[retrain]
schedule = "off"
after_feedback = 0
"""


def write_scripts(tmp):
    """wrk scripts POSTing SST-2 validation texts to /predict, and as feedback."""
    sample = texts(200)
    predict_lua, feedback_lua = f"{tmp}/predict.lua", f"{tmp}/feedback.lua"
    lua_script(predict_lua, [json.dumps({"text": t}) for t in sample])
    lua_script(feedback_lua, [json.dumps({"text": t, "predicted_label": "positive",
                                          "correct_label": "negative", "confidence": 0.6})
                              for t in sample])
    return predict_lua, feedback_lua


def daemon_part():
    rows = all_domain_rows()
    if len(rows) < 1000 + RETRAINS:
        raise SystemExit(f"need {1000 + RETRAINS} domain rows, have {len(rows)}")
    with tempfile.TemporaryDirectory(prefix="sd-mem-", dir="/tmp") as tmp:
        data_dir = Path(tmp) / "d"
        config = Path(tmp) / "config.toml"
        config.write_text(DAEMON_CONFIG)
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        cmd = [str(BIN), "serve", "--data-dir", str(data_dir), "--listen", f"127.0.0.1:{port}",
               "--base-data", str(DATA / "sst2"), "--config", str(config), "--audit-share", "0"]
        env = dict(os.environ, RUST_LOG="warn")
        # The first start bootstraps v1; the measured one starts on it, as a restarted
        # service does.
        first = subprocess.Popen(cmd, env=env, start_new_session=True, stderr=subprocess.DEVNULL)
        wait_ready(base + "/health", proc=first)
        stop(first)
        proc = subprocess.Popen(cmd, env=env, start_new_session=True, stderr=subprocess.DEVNULL)
        try:
            conn = wait_socket(data_dir / "run" / "sentimentd.sock", proc)
            time.sleep(1)
            after_start = rss_mib(proc.pid)
            for text, label in rows[:1000]:
                call(conn, "POST", "/feedback", {"text": text, "correct_label": label})
            after_feedback = rss_mib(proc.pid)
            along, outcomes, seconds = [], {}, []
            for k in range(RETRAINS):
                text, label = rows[1000 + k]
                call(conn, "POST", "/feedback", {"text": text, "correct_label": label})
                t0 = time.perf_counter()
                report = call(conn, "POST", "/admin/retrain?wait=true")
                seconds.append(time.perf_counter() - t0)
                outcome = report.get("outcome", "?")
                outcomes[outcome] = outcomes.get(outcome, 0) + 1
                along.append(rss_mib(proc.pid))
                if (k + 1) % 10 == 0:
                    print(f"  retrain {k + 1}/{RETRAINS}: {along[-1]:.1f} MiB", file=sys.stderr)
            # The mixed load: predictions and feedback on TCP at once.
            predict_lua, feedback_lua = write_scripts(tmp)
            duration = f"{MIXED}s"
            loads = [
                subprocess.Popen(["wrk", "-t1", "-c16", f"-d{duration}", "-s", script, base + route],
                                 stdout=subprocess.DEVNULL)
                for script, route in [(predict_lua, "/predict"), (feedback_lua, "/feedback")]
            ]
            for load in loads:
                load.wait()
            time.sleep(1)
            after_mixed = rss_mib(proc.pid)
        finally:
            stop(proc)
    tail = along[len(along) // 10:]
    print(f"\nDaemon resident memory (SST-2 model; {RETRAINS} retrains on SST-2 + 1,000 feedback)")
    print(f"  after start                 {after_start:7.1f} MiB")
    print(f"  after 1,000 feedback        {after_feedback:7.1f} MiB")
    for k in sorted({1, 10, len(along) // 2, len(along)}):
        print(f"  after retrain {k:<4}          {along[k - 1]:7.1f} MiB")
    print(f"  retrains {len(along) // 10 + 1}-{len(along)}: min {min(tail):.1f}, max {max(tail):.1f} MiB "
          f"(spread {max(tail) - min(tail):.1f}); largest after any retrain {max(along):.1f} MiB")
    print(f"  after {MIXED} s mixed load      {after_mixed:7.1f} MiB")
    print(f"  retrain outcomes {outcomes}; retrain median {statistics.median(seconds):.2f} s")


def http_part():
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory(prefix="sd-mem-", dir="/tmp") as tmp:
        predict_lua, feedback_lua = write_scripts(tmp)
        config = Path(tmp) / "config.toml"
        config.write_text(DAEMON_CONFIG)
        cmd = [str(BIN), "serve", "--data-dir", f"{tmp}/d", "--listen", f"127.0.0.1:{port}",
               "--base-data", str(DATA / "sst2"), "--config", str(config)]
        env = dict(os.environ, RUST_LOG="warn")
        daemon = subprocess.Popen(cmd, env=env, start_new_session=True, stderr=subprocess.DEVNULL)
        servers = [daemon]
        try:
            wait_ready(base + "/health", proc=daemon)
            # The same server with the model the daemon bootstrapped (v1): the ceiling
            # of any /predict that runs this model, with none of the service around it.
            model = next(Path(tmp, "d", "models").glob("v*/model.bin"))
            hello_port, model_port = free_port(), free_port()
            hello = subprocess.Popen([str(HELLO), f"127.0.0.1:{hello_port}"], start_new_session=True)
            servers.append(hello)
            model_only = subprocess.Popen([str(HELLO), f"127.0.0.1:{model_port}", "--model", str(model)],
                                          start_new_session=True)
            servers.append(model_only)
            wait_ready(f"http://127.0.0.1:{hello_port}/health", proc=hello)
            wait_ready(f"http://127.0.0.1:{model_port}/health", proc=model_only)
            rounds = []
            for _ in range(3):  # in turn, so that all three see the same machine
                rounds.append((wrk(base + "/predict", predict_lua),
                               wrk(f"http://127.0.0.1:{hello_port}/predict", predict_lua),
                               wrk(f"http://127.0.0.1:{model_port}/predict", predict_lua)))
            feedback = wrk(base + "/feedback", feedback_lua)
        finally:
            for server in servers:
                stop(server)
    ratio = lambda i, j: [r[i]["requests_per_second"] / r[j]["requests_per_second"] for r in rounds]
    med = lambda i, key: statistics.median(r[i][key] for r in rounds)
    pct = lambda values: f"{statistics.median(values) * 100:.0f}% (rounds: {', '.join(f'{v * 100:.0f}%' for v in values)})"
    print("\nHTTP, wrk -t2 -c32, one JSON POST; three rounds, medians")
    print(f"  {'':30}{'req/s':>10}{'p50 ms':>9}{'p99 ms':>9}")
    for i, name in enumerate(["sentimentd /predict", "axum JSON hello-world",
                              "axum + the model, nothing else"]):
        print(f"  {name:30}{med(i, 'requests_per_second'):>10,.0f}{med(i, 'p50_ms'):>9.2f}{med(i, 'p99_ms'):>9.2f}")
    print(f"  /predict / hello-world: {pct(ratio(0, 1))}")
    print(f"  model alone / hello-world (the ceiling for this model): {pct(ratio(2, 1))}")
    print(f"  /predict / model alone: {pct(ratio(0, 2))}")
    print(f"  /feedback acknowledged (durable) {feedback['requests_per_second']:,.0f}/s, "
          f"p99 {feedback['p99_ms']:.2f} ms, {feedback['errors']} errors")


def main():
    if not shutil.which("wrk") and ("daemon" in PARTS or "http" in PARTS):
        raise SystemExit("wrk is not installed: apt-get install wrk")
    subprocess.run(["cargo", "build", "--release", "-q", "--workspace"], cwd=ROOT, check=True)
    if "http" in PARTS:
        subprocess.run(["cargo", "build", "--release", "-q", "--workspace", "--example", "hello_json"],
                       cwd=ROOT, check=True)
    for part, run in [("train", train_part), ("daemon", daemon_part), ("http", http_part)]:
        if part in PARTS:
            run()


if __name__ == "__main__":
    main()
