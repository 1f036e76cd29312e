#!/usr/bin/env python3
"""HTTP benchmark: our daemon beside the original plan's FastAPI + scikit-learn stack
(../shared/peers/seed_stack.py), the same wrk load against both, in this one run.

    python3 bench/serve.py                 # 10 s per load, 32 connections
    DURATION=20s python3 bench/serve.py

Measures, for each server: /predict requests/s and latency percentiles, and
/predict/batch texts/s (100 texts per request). For ours also: acknowledged (durable)
feedback/s, resident memory serving the SST-2 model, and time from start to ready
with an existing model. Needs `wrk` (apt-get install wrk), a release build (done
here) and the peers' virtualenv (PEERS_PYTHON, or created in /tmp/sentiment-peers).
"""
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(os.environ.get("SENTIMENT_SHARED_DATA", ROOT.parent / "shared" / "data")).resolve()
PEERS = DATA.parent / "peers"
BIN = ROOT / "target" / "release" / "sentimentd"
DURATION = os.environ.get("DURATION", "10s")
CONNECTIONS = int(os.environ.get("CONNECTIONS", "32"))
BATCH = 100

sys.path.insert(0, str(Path(__file__).resolve().parent))
from engine import peers_python  # noqa: E402


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_ready(url, timeout=120.0, proc=None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise SystemExit(f"server exited with {proc.returncode} before it was ready")
        try:
            with urllib.request.urlopen(url, timeout=1) as r:
                if r.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.005)
    raise SystemExit(f"{url} not ready after {timeout} s")


def texts(n):
    out = []
    with open(DATA / "sst2" / "validation.tsv", encoding="utf-8") as f:
        next(f)
        for line in f:
            out.append(line.rsplit("\t", 1)[0])
            if len(out) == n:
                break
    return out


def lua_script(path, bodies):
    """A wrk script that POSTs the bodies in turn."""
    quoted = ",\n".join("[==[" + b + "]==]" for b in bodies)
    Path(path).write_text(
        f"""
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
local bodies = {{
{quoted}
}}
local i = 0
request = function()
  i = i % #bodies + 1
  return wrk.format(nil, nil, nil, bodies[i])
end
done = function(summary, latency, requests)
  io.write(string.format("RESULT %d %d %d %d %d %d %d\\n", summary.requests, summary.duration,
    summary.errors.status + summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max))
end
"""
    )


def wrk(url, script):
    out = subprocess.run(
        ["wrk", f"-t2", f"-c{CONNECTIONS}", f"-d{DURATION}", "-s", script, url],
        check=True, capture_output=True, text=True,
    ).stdout
    m = re.search(r"RESULT (\d+) (\d+) (\d+) (\d+) (\d+) (\d+) (\d+)", out)
    if not m:
        raise SystemExit("wrk printed no result:\n" + out)
    requests, duration_us, errors, p50, p90, p99, pmax = map(int, m.groups())
    return {
        "requests_per_second": requests / (duration_us / 1e6),
        "requests": requests,
        "errors": errors,
        "p50_ms": p50 / 1000, "p90_ms": p90 / 1000, "p99_ms": p99 / 1000, "max_ms": pmax / 1000,
    }


def rss_mib(pid):
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def stop(proc):
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def load_all(base, scripts, feedback=False):
    result = {
        "predict": wrk(base + "/predict", scripts["predict"]),
        "batch": wrk(base + "/predict/batch", scripts["batch"]),
    }
    result["batch"]["texts_per_second"] = result["batch"]["requests_per_second"] * BATCH
    if feedback:
        result["feedback"] = wrk(base + "/feedback", scripts["feedback"])
    return result


def main():
    subprocess.run(["cargo", "build", "--release", "-q", "--workspace"], cwd=ROOT, check=True)
    if not shutil.which("wrk"):
        raise SystemExit("wrk is not installed: apt-get install wrk")
    python = peers_python()
    sample = texts(200)
    with tempfile.TemporaryDirectory() as tmp:
        scripts = {name: f"{tmp}/{name}.lua" for name in ["predict", "batch", "feedback"]}
        lua_script(scripts["predict"], [json.dumps({"text": t}) for t in sample])
        lua_script(scripts["batch"], [json.dumps({"texts": sample[i:i + BATCH]}) for i in range(0, 100, 10)])
        lua_script(scripts["feedback"], [json.dumps({"text": t, "predicted_label": "positive", "correct_label": "negative", "confidence": 0.6}) for t in sample])

        # Ours. First start trains v1 (bootstrap); the timed start reuses it.
        data_dir = f"{tmp}/data"
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        # wrk is one anonymous address sending tens of thousands of rows: lift the
        # per-address daily quota, and keep the learning loop out of the throughput
        # figures (a retrain every few seconds would share the two cores).
        config = Path(tmp) / "config.toml"
        config.write_text("[feedback]\nmax_per_address_per_day = 0\n[retrain]\nafter_feedback = 0\n")
        cmd = [str(BIN), "serve", "--data-dir", data_dir, "--listen", f"127.0.0.1:{port}",
               "--base-data", str(DATA / "sst2"), "--log-format", "json", "--config", str(config)]
        env = dict(os.environ, RUST_LOG="warn")
        first = subprocess.Popen(cmd, env=env, start_new_session=True, stderr=subprocess.DEVNULL)
        wait_ready(base + "/health", proc=first)
        stop(first)
        starts = []
        for _ in range(5):
            t0 = time.monotonic()
            proc = subprocess.Popen(cmd, env=env, start_new_session=True, stderr=subprocess.DEVNULL)
            wait_ready(base + "/health", proc=proc)
            starts.append(time.monotonic() - t0)
            stop(proc)
        proc = subprocess.Popen(cmd, env=env, start_new_session=True, stderr=subprocess.DEVNULL)
        wait_ready(base + "/health", proc=proc)
        idle_rss = rss_mib(proc.pid)
        try:
            ours = load_all(base, scripts, feedback=True)
            ours["rss_mib_after_load"] = rss_mib(proc.pid)
            with urllib.request.urlopen(base + "/metrics") as r:
                ours["stored_feedback"] = json.load(r)["total_feedback"]
        finally:
            stop(proc)
        ours["rss_mib_idle"] = idle_rss
        ours["start_to_ready_ms"] = sorted(starts)[len(starts) // 2] * 1000

        # The seed stack: uvicorn with 2 workers, as its README runs it.
        port = free_port()
        seed_base = f"http://127.0.0.1:{port}"
        uvicorn = str(Path(python).parent / "uvicorn")
        seed = subprocess.Popen(
            [uvicorn, "--app-dir", str(PEERS), "seed_stack:app", "--port", str(port), "--workers", "2", "--log-level", "warning"],
            env=dict(os.environ, SENTIMENT_SHARED_DATA=str(DATA)), start_new_session=True,
        )
        try:
            wait_ready(seed_base + "/health", timeout=300, proc=seed)
            theirs = load_all(seed_base, scripts)
        finally:
            stop(seed)

    ratio = lambda a, b: a / b if b else float("inf")
    p, sp = ours["predict"], theirs["predict"]
    b, sb = ours["batch"], theirs["batch"]
    f = ours["feedback"]
    print(f"wrk -t2 -c{CONNECTIONS} -d{DURATION}, same texts, same machine\n")
    print(f"{'':28}{'sentimentd':>14}{'seed stack':>14}{'ratio':>10}")
    print(f"{'/predict requests/s':28}{p['requests_per_second']:>14,.0f}{sp['requests_per_second']:>14,.0f}{ratio(p['requests_per_second'], sp['requests_per_second']):>9.1f}x")
    for q in ["p50_ms", "p90_ms", "p99_ms", "max_ms"]:
        print(f"{'/predict ' + q.replace('_ms', ' ms'):28}{p[q]:>14.2f}{sp[q]:>14.2f}")
    print(f"{'/predict errors':28}{p['errors']:>14}{sp['errors']:>14}")
    print(f"{'/predict/batch texts/s':28}{b['texts_per_second']:>14,.0f}{sb['texts_per_second']:>14,.0f}{ratio(b['texts_per_second'], sb['texts_per_second']):>9.1f}x")
    print(f"{'/predict/batch p99 ms':28}{b['p99_ms']:>14.2f}{sb['p99_ms']:>14.2f}")
    print(f"\n/feedback acknowledged/s    {f['requests_per_second']:,.0f} (p99 {f['p99_ms']:.2f} ms, {f['errors']} errors; {ours['stored_feedback']:,} stored in total)")
    print(f"resident memory             {ours['rss_mib_idle']:.1f} MiB idle with the SST-2 model, {ours['rss_mib_after_load']:.1f} MiB after the load")
    print(f"start to ready              {ours['start_to_ready_ms']:.0f} ms (existing model, median of 5)")
    if os.environ.get("JSON"):
        print(json.dumps({"sentimentd": ours, "seed_stack": theirs}, indent=2))


if __name__ == "__main__":
    main()
