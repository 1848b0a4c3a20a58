"""Load test: `python -m benchmarks.load` (or `make load`). Not part of the test gate.

1. Makes the load tool's own environment, benchmarks/load/.venv, from benchmarks/load/requirements-load.txt
   (locust; only when that file changed).
2. Starts `gunicorn -c gunicorn.conf.py app:server` on a free loopback port with a fresh SQLite store and waits
   for /health.
3. Records the callback bodies chromium sends on `/` and `/wall` (benchmarks/load/capture.py).
4. Runs USERS simulated users (default 50) for DURATION (default 2m) headless (benchmarks/load/locustfile.py),
   while sampling the memory of every gunicorn worker (RSS, and PSS: its fair share of pages shared with the
   master and the other workers) once a second.
5. Prints requests, errors and p50/p95/p99 per request type, per interaction and overall; writes
   benchmarks/results/load.json; stops gunicorn. Exit status 1 when a request failed or the overall p95 is over
   P95_TARGET_MS (300).

Environment: USERS, DURATION (locust's form: 90s, 2m), SPAWN_RATE (users a second, default 5), THINK (seconds
between a user's actions, default 5-15), WALL_USERS, API_USERS (5 each, part of USERS), WEB_CONCURRENCY and
GUNICORN_THREADS (passed to gunicorn.conf.py), P95_TARGET_MS.
"""

from __future__ import annotations

import json
import math
import os
import platform
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

import psutil

from benchmarks.load.capture import capture

ROOT = Path(__file__).resolve().parents[2]
HERE = ROOT / "benchmarks" / "load"
VENV = HERE / ".venv"
REQUIREMENTS = HERE / "requirements-load.txt"
RESULTS = ROOT / "benchmarks" / "results"


def load_venv() -> Path:
    """benchmarks/load/.venv with the pinned load tool; rebuilt only when requirements-load.txt is newer."""
    stamp = VENV / ".installed"
    if not (VENV / "bin" / "python").exists():
        print("load: creating benchmarks/load/.venv", flush=True)
        subprocess.run([os.environ.get("PYTHON", "python3"), "-m", "venv", str(VENV)], check=True)
    if not stamp.exists() or stamp.stat().st_mtime < REQUIREMENTS.stat().st_mtime:
        print("load: installing the load tool from benchmarks/load/requirements-load.txt", flush=True)
        subprocess.run(
            [
                str(VENV / "bin" / "python"),
                "-m",
                "pip",
                "install",
                "-q",
                "--disable-pip-version-check",
                "-r",
                str(REQUIREMENTS),
            ],
            check=True,
        )
        stamp.touch()
    return VENV / "bin" / "locust"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_gunicorn(workdir: Path) -> tuple[str, subprocess.Popen, Path]:
    port = free_port()
    env = {
        **os.environ,
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "LOG_LEVEL": os.environ.get("LOG_LEVEL", "INFO"),
        "DATABASE_URL": f"sqlite:///{workdir}/load.sqlite",
    }
    log = workdir / "gunicorn.log"
    proc = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "app:server"],
        cwd=ROOT,
        env=env,
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 180
    while time.time() < deadline:
        try:
            urllib.request.urlopen(f"{url}/health", timeout=2).read()
            return url, proc, log
        except OSError:
            if proc.poll() is not None:
                raise SystemExit(f"gunicorn exited:\n{log.read_text()[-3000:]}") from None
            time.sleep(0.5)
    proc.kill()
    raise SystemExit("gunicorn did not answer /health within 180 s")


class MemorySampler(threading.Thread):
    """Peak RSS and PSS of each worker (the children of the gunicorn master), sampled once a second."""

    def __init__(self, master_pid: int):
        super().__init__(daemon=True)
        self.master = psutil.Process(master_pid)
        self.peaks: dict[int, dict] = {}
        self.master_peak_rss = 0
        self.stop = threading.Event()

    def run(self):
        while not self.stop.wait(1.0):
            try:
                self.master_peak_rss = max(self.master_peak_rss, self.master.memory_info().rss)
                children = self.master.children()
            except psutil.Error:
                return
            for child in children:
                try:
                    mem = child.memory_full_info()
                except psutil.Error:
                    continue
                peak = self.peaks.setdefault(child.pid, {"rss": 0, "pss": 0, "uss": 0})
                for key in peak:
                    peak[key] = max(peak[key], getattr(mem, key))


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q / 100 * len(ordered)) - 1)]


def summarise(samples: list[list]) -> dict:
    times = [s[1] for s in samples]
    return {
        "requests": len(samples),
        "errors": sum(1 for s in samples if not s[2]),
        "p50_ms": round(percentile(times, 50), 1),
        "p95_ms": round(percentile(times, 95), 1),
        "p99_ms": round(percentile(times, 99), 1),
        "max_ms": round(max(times), 1),
    }


def main() -> int:
    users = int(os.environ.get("USERS", "50"))
    duration = os.environ.get("DURATION", "2m")
    spawn_rate = os.environ.get("SPAWN_RATE", "5")
    think = os.environ.get("THINK", "5-15")
    target = float(os.environ.get("P95_TARGET_MS", "300"))
    locust = load_venv()
    workdir = Path(tempfile.mkdtemp(prefix="dashboard-load-"))
    url, proc, gunicorn_log = start_gunicorn(workdir)
    print(f"load: gunicorn at {url} (log {gunicorn_log}); recording the pages' callbacks in chromium", flush=True)
    try:
        recorded = capture(url)
        capture_path = workdir / "capture.json"
        capture_path.write_text(json.dumps(recorded, ensure_ascii=False))
        samples_path = workdir / "samples.json"
        sampler = MemorySampler(proc.pid)
        sampler.start()
        print(f"load: {users} users for {duration} (spawn {spawn_rate}/s, think {think} s)", flush=True)
        env = {**os.environ, "LOAD_CAPTURE": str(capture_path), "LOAD_SAMPLES": str(samples_path), "THINK": think}
        started = time.time()
        run = subprocess.run(
            [
                str(locust),
                "-f",
                str(HERE / "locustfile.py"),
                "--headless",
                "-u",
                str(users),
                "-r",
                spawn_rate,
                "-t",
                duration,
                "--host",
                url,
                "--stop-timeout",
                "10",
                "--only-summary",
                "--loglevel",
                "WARNING",
            ],
            env=env,
            cwd=HERE,
            capture_output=True,
            text=True,
        )
        elapsed = time.time() - started
        sampler.stop.set()
        sampler.join()
        (workdir / "locust.log").write_text(run.stdout + run.stderr)
        if not samples_path.exists():
            print(run.stdout[-3000:], run.stderr[-3000:])
            raise SystemExit("load: locust wrote no samples")
        data = json.loads(samples_path.read_text())
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(40)
        except subprocess.TimeoutExpired:
            proc.kill()

    samples, errors = data["samples"], data["errors"]
    http = {name: s for name, s in samples.items() if not name.startswith("interaction ")}
    interactions = {
        name.removeprefix("interaction "): s for name, s in samples.items() if name.startswith("interaction ")
    }
    overall = summarise([s for rows in http.values() for s in rows])
    result = {
        "when": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "machine": {
            "cores": os.cpu_count(),
            "memory_gb": round(psutil.virtual_memory().total / 2**30, 1),
            "python": platform.python_version(),
        },
        "config": {
            "users": users,
            "duration": duration,
            "spawn_rate_per_s": float(spawn_rate),
            "think_s": think,
            "wall_users": int(os.environ.get("WALL_USERS", "5")),
            "api_users": int(os.environ.get("API_USERS", "5")),
            "web_concurrency": os.environ.get("WEB_CONCURRENCY") or "default (cores)",
            "gunicorn_threads": os.environ.get("GUNICORN_THREADS") or "default (4)",
            "elapsed_s": round(elapsed, 1),
        },
        "overall": overall,
        "throughput_rps": round(overall["requests"] / elapsed, 1),
        "requests": {name: summarise(rows) for name, rows in sorted(http.items())},
        "interactions": {name: summarise(rows) for name, rows in sorted(interactions.items())},
        "errors": errors,
        "workers_peak_memory_mb": {
            str(pid): {k: round(v / 2**20) for k, v in peak.items()} for pid, peak in sampler.peaks.items()
        },
        "master_peak_rss_mb": round(sampler.master_peak_rss / 2**20),
        "p95_target_ms": target,
    }
    result["target_met"] = overall["errors"] == 0 and overall["p95_ms"] <= target
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "load.json").write_text(json.dumps(result, ensure_ascii=False, indent=2))
    print_table(result)
    print(f"load: written to {RESULTS / 'load.json'}; gunicorn log {gunicorn_log}, locust log {workdir}/locust.log")
    return 0 if result["target_met"] else 1


def print_table(r: dict) -> None:
    c = r["config"]
    print(
        f"\n{c['users']} users ({c['wall_users']} wall, {c['api_users']} API) for {c['duration']}, think "
        f"{c['think_s']} s; {r['machine']['cores']} cores; {r['overall']['requests']} requests, "
        f"{r['throughput_rps']} req/s"
    )
    head = f"{'request':<44} {'n':>6} {'err':>4} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'max ms':>8}"
    print(head)
    print("-" * len(head))
    for name, s in list(r["requests"].items()) + [("OVERALL (all HTTP requests)", r["overall"])]:
        print(
            f"{name[:44]:<44} {s['requests']:>6} {s['errors']:>4} {s['p50_ms']:>8} {s['p95_ms']:>8} "
            f"{s['p99_ms']:>8} {s['max_ms']:>8}"
        )
    print(
        f"\n{'interaction (all its callbacks answered)':<44} {'n':>6} {'':>4} {'p50 ms':>8} {'p95 ms':>8} "
        f"{'p99 ms':>8} {'max ms':>8}"
    )
    for name, s in r["interactions"].items():
        print(
            f"{name[:44]:<44} {s['requests']:>6} {'':>4} {s['p50_ms']:>8} {s['p95_ms']:>8} {s['p99_ms']:>8} "
            f"{s['max_ms']:>8}"
        )
    print(
        "\npeak memory per worker (MB): "
        + "; ".join(
            f"pid {pid}: RSS {m['rss']}, PSS {m['pss']}, USS {m['uss']}"
            for pid, m in r["workers_peak_memory_mb"].items()
        )
        + f"; master RSS {r['master_peak_rss_mb']}"
    )
    for what, n in sorted(r["errors"].items(), key=lambda kv: -kv[1])[:10]:
        print(f"error x{n}: {what}")
    verdict = "met" if r["target_met"] else "NOT met"
    print(
        f"target p95 <= {r['p95_target_ms']:.0f} ms and 0 errors: {verdict} "
        f"(p95 {r['overall']['p95_ms']} ms, {r['overall']['errors']} errors)"
    )


if __name__ == "__main__":
    sys.exit(main())
