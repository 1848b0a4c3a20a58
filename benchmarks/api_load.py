"""Load test of the public API behind nginx: `python -m benchmarks.api_load` (or `make load-api`). Not part of the
test gate; loopback only, and it stops by itself.

1. Starts `gunicorn -c gunicorn.conf.py app:server` on a free loopback port with a fresh SQLite store, as an office
   deploys it behind nginx (an account exists, a SECRET_KEY, PROXY_COUNT=1), and nginx with deploy/nginx.conf in
   front of it (the upstream port, the listen port and the log/pid/cache paths substituted into a copy, as
   tests/test_deploy.py does; nginx runs as this user).
2. Runs CLIENTS (1,000) anonymous clients at once, started over RAMP seconds, for DURATION seconds: each has its own
   keep-alive connection, asks for one /api/v1 URL of a realistic mix (the latest and a past day's summary of the
   province, the cities and some counties, timeseries as JSON and CSV, forecasts, facilities, flows, coverage,
   adequacy, regions, the OpenAPI document; popular URLs often, a long tail of past days seldom), takes gzip as a
   client does and sends If-None-Match with the ETag it got for that URL before, then waits THINK seconds
   (uniform, default 0.5-1.5: an application polling open data) before its next request.
3. Prints p50/p95/p99/max latency per kind of request and overall, requests/s, errors, statuses, nginx's cache
   statuses (X-Cache-Status) and the hit ratio, how many requests reached the app, and the client's own event-loop
   lag; writes benchmarks/results/api_load.json; stops nginx and gunicorn. Exit status 1 when a request failed or
   the overall p95 is over P95_TARGET_MS (200).

Environment: CLIENTS, DURATION (seconds, default 60), RAMP (seconds, default 5), THINK (seconds, "0.5-1.5"), SEED,
P95_TARGET_MS, WEB_CONCURRENCY and GUNICORN_THREADS (passed to gunicorn.conf.py), NGINX (default /usr/sbin/nginx).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import gc
import json
import math
import os
import platform
import random
import re
import resource
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections import Counter, defaultdict
from pathlib import Path

import aiohttp
import psutil

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
NGINX = Path(os.environ.get("NGINX", "/usr/sbin/nginx"))
FROM_CACHE = ("HIT", "STALE", "UPDATING", "REVALIDATED")  # nginx answered from its cache (REVALIDATED: after a 304)
ADMIN = ("load-admin", "load admin password 0123456789")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def raise_open_files(wanted: int) -> int:
    """Raise this process's (and so its children's) open-file limit towards ``wanted``; the limit now in force."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def nginx_conf(app_port: int, port: int, prefix: Path) -> str:
    """deploy/nginx.conf with this run's ports and paths (as tests/test_deploy.py rewrites it)."""
    text = (ROOT / "deploy" / "nginx.conf").read_text()
    temp = "".join(
        f"    {kind}_temp_path {prefix}/{kind};\n" for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    substitutions = [
        (r"^user www-data;$", "user root;" if os.geteuid() == 0 else ""),
        (r"^pid /run/nginx\.pid;$", f"pid {prefix}/nginx.pid;"),
        (r"/var/log/nginx/", f"{prefix}/"),
        (r"/var/lib/nginx/", f"{prefix}/"),
        (r"^(\s*)listen 80;$", rf"\g<1>listen 127.0.0.1:{port} backlog=4096;"),
        (r"^(\s*)server 127\.0\.0\.1:8050 ", rf"\g<1>server 127.0.0.1:{app_port} "),
        (r"^http \{$", "http {\n" + temp),
    ]
    for pattern, replacement in substitutions:
        text, n = re.subn(pattern, replacement, text, flags=re.M)
        if n < 1:
            raise SystemExit(f"api_load: deploy/nginx.conf no longer has {pattern!r}")
    return text


def wait_for(url: str, proc: subprocess.Popen, log: Path, seconds: float) -> None:
    deadline = time.time() + seconds
    while time.time() < deadline:
        try:
            urllib.request.urlopen(url, timeout=2).read()
            return
        except OSError:
            if proc.poll() is not None:
                raise SystemExit(f"api_load: {proc.args[0]} exited:\n{log.read_text()[-3000:]}") from None
            time.sleep(0.3)
    raise SystemExit(f"api_load: {url} did not answer within {seconds} s:\n{log.read_text()[-3000:]}")


def start_gunicorn(workdir: Path) -> tuple[int, subprocess.Popen, Path]:
    from data import store  # noqa: PLC0415  (the app's modules only to make the store's account)
    from security import accounts  # noqa: PLC0415  (as above)

    database = f"sqlite:///{workdir}/load.sqlite"
    accounts.create_user(*ADMIN, "data_admin", eng=store.engine(database))  # no local demo: callers are anonymous
    port = free_port()
    env = {
        **os.environ,
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "LOG_LEVEL": os.environ.get("LOG_LEVEL", "WARNING"),
        "DATABASE_URL": database,
        "SECRET_KEY": secrets.token_hex(32),
        "PROXY_COUNT": "1",
        "GUNICORN_ACCESS_LOG": str(workdir / "gunicorn-access.log"),
    }
    env.pop("CACHE_REDIS_URL", None)  # this store is its own
    log = workdir / "gunicorn.log"
    proc = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "app:server"],
        cwd=ROOT,
        env=env,
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
    )
    wait_for(f"http://127.0.0.1:{port}/health", proc, log, 180)
    return port, proc, log


def start_nginx(workdir: Path, app_port: int) -> tuple[int, subprocess.Popen, Path]:
    if not NGINX.exists():
        raise SystemExit(f"api_load: no nginx at {NGINX} (`scripts/setup.sh test` installs Debian's)")
    port = free_port()
    conf = workdir / "nginx.conf"
    conf.write_text(nginx_conf(app_port, port, workdir))
    check = subprocess.run(
        [str(NGINX), "-t", "-q", "-c", str(conf), "-p", str(workdir)], capture_output=True, text=True
    )
    if check.returncode != 0:
        raise SystemExit(f"api_load: nginx -t failed:\n{check.stderr}")
    log = workdir / "nginx.log"
    proc = subprocess.Popen(
        [str(NGINX), "-c", str(conf), "-p", str(workdir), "-g", "daemon off;"],
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
    )
    wait_for(f"http://127.0.0.1:{port}/health", proc, log, 30)
    return port, proc, log


def stop(proc: subprocess.Popen | None, sig: int, seconds: float) -> None:
    if proc is None or proc.poll() is not None:
        return
    proc.send_signal(sig)
    try:
        proc.wait(seconds)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(5)


# ---- what the clients ask for -------------------------------------------------------------------------------------
def _get_json(url: str):
    try:
        with urllib.request.urlopen(url, timeout=60) as r:
            return json.loads(r.read())
    except urllib.error.HTTPError as err:
        return json.loads(err.read())


def data_range(app: str) -> dict:
    """The days the data covers (cases, flows) and the regions, asked of the app itself (not through nginx)."""
    regions = _get_json(f"{app}/api/v1/regions")
    days = [row["date"] for row in _get_json(f"{app}/api/v1/timeseries?region=610000")]
    flows = _get_json(f"{app}/api/v1/flows?region=610100&date=1900-01-01").get("error", "")
    found = re.findall(r"\d{4}-\d{2}-\d{2}", flows)
    flow_places = []
    if len(found) >= 2:  # the places the flow data has (韩城 and 杨凌 count under 渭南 and 咸阳: a 400 names them)
        for code in ["610000", *(r["adcode"] for r in regions if r["level"] == "unit")]:
            if "error" not in _get_json(f"{app}/api/v1/flows?region={code}&date={found[-1]}"):
                flow_places.append(code)
    return {
        "units": [r["adcode"] for r in regions if r["level"] == "unit"],
        "counties": [r["adcode"] for r in regions if r["level"] == "county"],
        "days": days,
        "flow_days": (found[-2], found[-1]) if flow_places else None,
        "flow_places": flow_places,
    }


def _days(first: str, last: str) -> list[str]:
    a, b = dt.date.fromisoformat(first), dt.date.fromisoformat(last)
    return [(a + dt.timedelta(days=i)).isoformat() for i in range((b - a).days + 1)]


class Mix:
    """A request of the mix: (kind, path). Popular URLs (the latest day, the province and the big cities) are asked
    often, past days and small places seldom, as on a public API."""

    def __init__(self, data: dict):
        self.units, self.counties, self.days = data["units"], data["counties"], data["days"]
        self.flow_days = _days(*data["flow_days"]) if data["flow_days"] else []
        self.flow_places = data["flow_places"]
        self.recent = self.days[-30:]
        self.places = ["610000", *self.units]  # the province first, then the 12 units
        self.weights = [8, 6, 4, *([2] * (len(self.places) - 3))]  # the province, 西安, 宝鸡 ... most asked
        kinds = [
            ("summary latest", 22),
            ("summary recent day", 12),
            ("summary any day", 8),
            ("summary county", 5),
            ("timeseries json", 12),
            ("timeseries csv", 5),
            ("timeseries last 30 days", 8),
            ("forecast", 5),
            ("regions", 4),
            ("facilities", 4),
            ("flows", 5 if self.flow_days else 0),
            ("coverage", 3),
            ("adequacy", 3),
            ("openapi", 2),
        ]
        self.kinds = [k for k, w in kinds if w]
        self.kind_weights = [w for _, w in kinds if w]

    def place(self, rng: random.Random) -> str:
        return rng.choices(self.places, self.weights)[0]

    def pick(self, rng: random.Random) -> tuple[str, str]:
        kind = rng.choices(self.kinds, self.kind_weights)[0]
        place = self.place(rng)
        if kind == "summary latest":
            return kind, f"/api/v1/summary?region={place}"
        if kind == "summary recent day":
            return kind, f"/api/v1/summary?region={place}&date={rng.choice(self.recent)}"
        if kind == "summary any day":
            return kind, f"/api/v1/summary?region={place}&date={rng.choice(self.days)}"
        if kind == "summary county":
            return kind, f"/api/v1/summary?region={rng.choice(self.counties[:20])}"
        if kind == "timeseries json":
            return kind, f"/api/v1/timeseries?region={place}"
        if kind == "timeseries csv":
            return kind, f"/api/v1/timeseries?region={place}&format=csv"
        if kind == "timeseries last 30 days":
            return kind, f"/api/v1/timeseries?region={place}&start={self.recent[0]}&end={self.recent[-1]}"
        if kind == "forecast":
            return kind, f"/api/v1/forecast?region={place}"
        if kind == "regions":
            return kind, "/api/v1/regions" + rng.choice(["", "?format=csv"])
        if kind == "facilities":
            return kind, f"/api/v1/facilities?region={place}&kind=" + rng.choice(["fever_clinic", "supply_point"])
        if kind == "flows":
            day = rng.choice(self.flow_days[-30:] if rng.random() < 0.7 else self.flow_days)
            place = place if place in self.flow_places else rng.choice(self.flow_places)
            return kind, f"/api/v1/flows?region={place}&date={day}&direction={rng.choice(['in', 'out'])}"
        if kind == "coverage":
            return kind, "/api/v1/coverage?level=" + rng.choice(["unit", "county", "province"])
        if kind == "adequacy":
            return kind, "/api/v1/adequacy?level=" + rng.choice(["unit", "province"])
        return kind, "/api/v1/openapi.json"


# ---- the clients ----------------------------------------------------------------------------------------------------
class Stats:
    def __init__(self):
        self.samples: list[tuple[str, float, int, str]] = []  # (kind, ms, status, X-Cache-Status)
        self.errors: Counter = Counter()
        self.lag_ms: list[float] = []


async def one_client(n: int, base: str, mix: Mix, stats: Stats, start: float, stop_at: float, conf: dict) -> None:
    rng = random.Random(conf["seed"] * 1_000_003 + n)
    loop = asyncio.get_running_loop()
    await asyncio.sleep(max(0.0, start + conf["ramp"] * n / conf["clients"] - loop.time()))
    etags: dict[str, str] = {}
    connector = aiohttp.TCPConnector(limit=1, keepalive_timeout=30)  # one connection: one client
    timeout = aiohttp.ClientTimeout(total=30)
    # the body is read whole but not unzipped: on this machine the client's CPU is the server's
    async with aiohttp.ClientSession(base, connector=connector, timeout=timeout, auto_decompress=False) as session:
        while loop.time() < stop_at:
            kind, path = mix.pick(rng)
            headers = {"Accept-Encoding": "gzip"}
            if path in etags:
                headers["If-None-Match"] = etags[path]
            began = time.perf_counter()
            try:
                async with session.get(path, headers=headers) as r:
                    body = await r.read()
                    ms = (time.perf_counter() - began) * 1000
                    if r.status == 200 and body:
                        if "ETag" in r.headers:
                            etags[path] = r.headers["ETag"]
                    elif r.status != 304:
                        stats.errors[f"{kind} {path}: HTTP {r.status} {body[:160].decode(errors='replace')}"] += 1
                    stats.samples.append((kind, ms, r.status, r.headers.get("X-Cache-Status", "-")))
            except (aiohttp.ClientError, TimeoutError, OSError) as err:
                ms = (time.perf_counter() - began) * 1000
                stats.errors[f"{kind} {path}: {type(err).__name__} {str(err)[:120]}"] += 1
                stats.samples.append((kind, ms, 0, "-"))
            await asyncio.sleep(rng.uniform(*conf["think"]))


async def lag_monitor(stats: Stats, stop_at: float) -> None:
    """How late the client's own event loop wakes (a 50 ms sleep): the share of the latencies that is the client's."""
    loop = asyncio.get_running_loop()
    while loop.time() < stop_at:
        began = loop.time()
        await asyncio.sleep(0.05)
        stats.lag_ms.append((loop.time() - began - 0.05) * 1000)


async def drive(base: str, mix: Mix, conf: dict) -> tuple[Stats, float]:
    stats = Stats()
    loop = asyncio.get_running_loop()
    start = loop.time() + 0.5
    stop_at = start + conf["duration"]
    began = time.time()
    await asyncio.gather(
        lag_monitor(stats, stop_at),
        *(one_client(n, base, mix, stats, start, stop_at, conf) for n in range(conf["clients"])),
    )
    return stats, time.time() - began


def cpu_seconds(pids: list[int]) -> dict:
    """CPU seconds so far of each process group (a process and its children; this process alone, since gunicorn
    and nginx are its children) and of the whole machine."""
    out = {}
    for pid in pids:
        total = 0.0
        try:
            proc = psutil.Process(pid)
            for p in [proc, *(proc.children(recursive=True) if pid != os.getpid() else [])]:
                times = p.cpu_times()
                total += times.user + times.system
        except psutil.Error:
            pass
        out[pid] = total
    machine = psutil.cpu_times()
    out["machine"] = machine.user + machine.system + machine.nice + getattr(machine, "softirq", 0.0)
    return out


# ---- the report -----------------------------------------------------------------------------------------------------
def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q / 100 * len(ordered)) - 1)] if ordered else float("nan")


def summarise(rows: list[tuple[str, float, int, str]], seconds: float) -> dict:
    times = [r[1] for r in rows]
    caches = Counter(r[3] for r in rows)
    return {
        "requests": len(rows),
        "per_s": round(len(rows) / seconds, 1),
        "errors": sum(1 for r in rows if r[2] not in (200, 304)),
        "not_modified": sum(1 for r in rows if r[2] == 304),
        "p50_ms": round(percentile(times, 50), 1),
        "p95_ms": round(percentile(times, 95), 1),
        "p99_ms": round(percentile(times, 99), 1),
        "max_ms": round(max(times), 1) if times else None,
        "cache": dict(caches.most_common()),
        "hit_ratio": round(sum(caches[s] for s in FROM_CACHE) / len(rows), 4) if rows else None,
    }


def app_requests(access_log: Path) -> dict:
    """What reached gunicorn (its access log): requests and their statuses."""
    statuses = Counter()
    if access_log.exists():
        for line in access_log.read_text(errors="replace").splitlines():
            found = re.search(r'" (\d{3}) ', line)
            if found and "/api/v1/" in line:
                statuses[found.group(1)] += 1
    return {"requests": sum(statuses.values()), "statuses": dict(statuses.most_common())}


def main() -> int:
    think = tuple(float(x) for x in os.environ.get("THINK", "0.5-1.5").split("-"))
    conf = {
        "clients": int(os.environ.get("CLIENTS", "1000")),
        "duration": float(os.environ.get("DURATION", "60")),
        "ramp": float(os.environ.get("RAMP", "5")),
        "think": think,
        "seed": int(os.environ.get("SEED", "22")),
    }
    if conf["duration"] > 300:
        raise SystemExit("api_load: DURATION is at most 300 s")
    target = float(os.environ.get("P95_TARGET_MS", "200"))
    files = raise_open_files(max(8192, 4 * conf["clients"] + 1024))
    workdir = Path(tempfile.mkdtemp(prefix="dashboard-api-load-"))
    app = web = None
    try:
        app_port, app, app_log = start_gunicorn(workdir)
        port, web, _ = start_nginx(workdir, app_port)
        base = f"http://127.0.0.1:{port}"
        data = data_range(f"http://127.0.0.1:{app_port}")
        print(
            f"api_load: gunicorn on :{app_port}, nginx on :{port} (files in {workdir}); {conf['clients']} clients for "
            f"{conf['duration']:g} s (ramp {conf['ramp']:g} s, think {think[0]:g}-{think[1]:g} s); open files {files}",
            flush=True,
        )
        gc.collect()
        gc.freeze()  # what is set up stays out of the collector's way; collect young objects less often
        gc.set_threshold(20_000, 50, 100)
        me = os.getpid()
        before = cpu_seconds([me, app.pid, web.pid])
        stats, elapsed = asyncio.run(drive(base, Mix(data), conf))
        after = cpu_seconds([me, app.pid, web.pid])
    finally:
        stop(web, signal.SIGQUIT, 15)
        stop(app, signal.SIGTERM, 40)

    by_kind = defaultdict(list)
    for row in stats.samples:
        by_kind[row[0]].append(row)
    result = {
        "when": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "machine": {"cores": os.cpu_count(), "python": platform.python_version()},
        "config": {
            **conf,
            "think": f"{think[0]:g}-{think[1]:g}",
            "elapsed_s": round(elapsed, 1),
            "web_concurrency": os.environ.get("WEB_CONCURRENCY") or "default (cores)",
            "gunicorn_threads": os.environ.get("GUNICORN_THREADS") or "default (4)",
        },
        "overall": summarise(stats.samples, elapsed),
        "kinds": {kind: summarise(rows, elapsed) for kind, rows in sorted(by_kind.items())},
        "app": app_requests(workdir / "gunicorn-access.log"),
        "client_loop_lag_ms": {
            "p50": round(percentile(stats.lag_ms, 50), 1),
            "p95": round(percentile(stats.lag_ms, 95), 1),
            "max": round(max(stats.lag_ms), 1) if stats.lag_ms else None,
        },
        "errors": dict(stats.errors.most_common(20)),
        # CPU used during the run, in cores (of os.cpu_count()): the client, gunicorn, nginx, and everything else on
        # the machine (others' work slows every process here, the client's measurements included)
        "cpu_cores": {
            name: round((after[key] - before[key]) / elapsed, 2)
            for name, key in (("client", me), ("gunicorn", app.pid), ("nginx", web.pid), ("machine", "machine"))
        },
        "p95_target_ms": target,
    }
    overall = result["overall"]
    cores = result["cpu_cores"]
    cores["others"] = round(max(0.0, cores["machine"] - cores["client"] - cores["gunicorn"] - cores["nginx"]), 2)
    result["target_met"] = overall["errors"] == 0 and overall["p95_ms"] <= target
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "api_load.json").write_text(json.dumps(result, ensure_ascii=False, indent=2))
    print_table(result)
    print(f"api_load: written to {RESULTS / 'api_load.json'}; logs in {workdir}")
    return 0 if result["target_met"] else 1


def print_table(r: dict) -> None:
    c, o = r["config"], r["overall"]
    print(
        f"\n{c['clients']} clients for {c['duration']:g} s (think {c['think']} s, ramp {c['ramp']:g} s), "
        f"{r['machine']['cores']} cores: {o['requests']} requests, {o['per_s']} req/s, {o['errors']} errors, "
        f"{o['not_modified']} answered 304"
    )
    head = f"{'request':<26} {'n':>7} {'err':>4} {'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7} {'max ms':>7} {'hit':>6}"
    print(head)
    print("-" * len(head))
    for name, s in [*r["kinds"].items(), ("OVERALL", o)]:
        print(
            f"{name:<26} {s['requests']:>7} {s['errors']:>4} {s['p50_ms']:>7} {s['p95_ms']:>7} {s['p99_ms']:>7} "
            f"{s['max_ms']:>7} {s['hit_ratio']:>6.1%}"
        )
    print(f"\nnginx cache statuses: {o['cache']}; hit ratio (HIT, STALE, UPDATING, REVALIDATED) {o['hit_ratio']:.1%}")
    print(f"reached the app: {r['app']['requests']} requests {r['app']['statuses']}")
    lag = r["client_loop_lag_ms"]
    print(f"client event-loop lag (part of every latency above): p50 {lag['p50']} ms, p95 {lag['p95']} ms")
    cpu = r["cpu_cores"]
    print(
        f"CPU during the run (cores of {r['machine']['cores']}): client {cpu['client']}, gunicorn {cpu['gunicorn']}, "
        f"nginx {cpu['nginx']}, other processes on the machine {cpu['others']}"
    )
    for what, n in r["errors"].items():
        print(f"error x{n}: {what}")
    verdict = "met" if r["target_met"] else "NOT met"
    print(
        f"target p95 <= {r['p95_target_ms']:.0f} ms and 0 errors: {verdict} "
        f"(p95 {o['p95_ms']} ms, {o['errors']} errors)"
    )


if __name__ == "__main__":
    sys.exit(main())
