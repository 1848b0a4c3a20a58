"""Simulated users of the dashboard for locust (runs in benchmarks/load/.venv; `make load` drives it).

- DutyOfficer (the rest of the users): opens `/` once (the HTML, _dash-layout, _dash-dependencies, then the
  callbacks the page sends on load; the JS bundles and boundary files are in the browser's cache), then every
  THINK seconds changes the date, the region, the map metric or a facility layer, or reopens a shared link; the
  page's own 30 s data-version poll runs beside that, as in the browser.
- WallScreen (WALL_USERS, default 5): opens `/wall` and polls every 15 s.
- ApiClient (API_USERS, default 5): another system reading /api/v1/summary and /api/v1/timeseries every THINK s.

Callback bodies are the ones chromium sent (benchmarks/load/capture.py, file in LOAD_CAPTURE); each interaction
picks a random day and region and puts them into the bodies' date-select / region-select values. Requests of one
wave go out together (at most 6 at once, a browser's connections per host), the next wave when they are answered.
A callback counts as an error unless it is 200 with a JSON object holding "response", or 204: Dash's answer when
a callback has nothing to update (a poll with no new data; a flow view gated off below the fold). Every sample goes
to LOAD_SAMPLES (JSON) when locust quits, for benchmarks/load/__main__.py.
"""

from __future__ import annotations

import json
import os
import random
import time

import gevent
from gevent.pool import Pool
from locust import FastHttpUser, between, constant, events, task

CAPTURE = json.loads(open(os.environ["LOAD_CAPTURE"], encoding="utf-8").read())
SCENARIOS = CAPTURE["scenarios"]
DATES, REGIONS = CAPTURE["dates"], CAPTURE["regions"]
THINK = tuple(float(x) for x in os.environ.get("THINK", "5-15").split("-"))
POLLS = {"wall poll", "page poll"}
STARTED = time.time()
SAMPLES: dict[str, list] = {}  # name -> [[seconds since start, ms, ok], ...]
ERRORS: dict[str, int] = {}  # "name: what went wrong" -> count


def record(name: str, ms: float, ok: bool) -> None:
    SAMPLES.setdefault(name, []).append([round(time.time() - STARTED, 2), round(ms, 2), ok])


@events.request.add_listener
def _on_request(request_type, name, response_time, exception, **_kw):
    record(name, response_time, exception is None)  # names say the request: "GET /wall", "cb region-map.figure"
    if exception is not None:
        key = f"{name}: {str(exception)[:160]}"
        ERRORS[key] = ERRORS.get(key, 0) + 1


@events.quitting.add_listener
def _write_samples(environment, **_kw):
    path = os.environ.get("LOAD_SAMPLES")
    if path:
        with open(path, "w", encoding="utf-8") as f:
            json.dump({"samples": SAMPLES, "errors": ERRORS}, f)


def short_name(output: str) -> str:
    """'..kpi-confirmed.children...kpi-active.children..' -> 'kpi-confirmed.children+1'."""
    if output.startswith("..") and output.endswith(".."):
        parts = output[2:-2].split("...")
        return parts[0] + (f"+{len(parts) - 1}" if len(parts) > 1 else "")
    return output


def with_view(body: dict, region: str, day: str) -> dict:
    """The body with the chosen day and region wherever the page sends its date and region."""

    def fix(item):
        if isinstance(item, list):
            return [fix(i) for i in item]
        if not isinstance(item, dict) or "value" not in item:
            return item
        key = (item.get("id"), item.get("property"))
        if key == ("date-select", "value"):
            return {**item, "value": day}
        if key == ("region-select", "value"):
            return {**item, "value": region}
        if key == ("_pages_location", "search") and item["value"]:
            return {**item, "value": f"?region={region}&date={day}"}
        return item

    return {**body, "inputs": fix(body.get("inputs", [])), "state": fix(body.get("state", []))}


class DashUser(FastHttpUser):
    abstract = True
    concurrency = 6  # a browser's connections to one host
    default_headers = {"User-Agent": "dashboard-load-test", "Accept-Language": "zh-CN"}

    def callback(self, scenario: str, item: dict, region: str, day: str) -> None:
        body = json.loads(item["body"])
        if scenario not in POLLS:
            body = with_view(body, region, day)
        # the CSRF token the page visit set in a cookie, sent back as the browser's Dash renderer does
        token = next((c.value for c in self.client.cookiejar if c.name == "_csrf_token"), "")
        with self.client.post(
            "/_dash-update-component",
            data=json.dumps(body, ensure_ascii=False).encode(),
            headers={"Content-Type": "application/json", "X-CSRFToken": token},
            name=f"cb {short_name(item['output'])}",
            catch_response=True,
        ) as response:
            if response.status_code == 204:  # PreventUpdate: nothing to update, as the browser got it too
                response.success()
                return
            if response.status_code != 200:
                response.failure(f"HTTP {response.status_code} {getattr(response, 'error', '') or ''}".strip())
                return
            try:
                answer = json.loads(response.content)
            except ValueError:
                response.failure("not JSON")
                return
            if not isinstance(answer, dict) or "response" not in answer:
                response.failure(f"no 'response' in the answer: {str(answer)[:120]}")

    def interaction(self, scenario: str) -> None:
        """The scenario's callbacks, wave by wave, as the browser sends them; its total time is recorded too."""
        region, day = random.choice(REGIONS), random.choice(DATES)
        items = SCENARIOS[scenario]
        t0 = time.perf_counter()
        for wave in sorted({i["wave"] for i in items}):
            pool = Pool(6)
            for item in (i for i in items if i["wave"] == wave):
                pool.spawn(self.callback, scenario, item, region, day)
            pool.join()
        record(f"interaction {scenario}", (time.perf_counter() - t0) * 1000, True)

    def open(self, path: str, scenario: str) -> None:
        page = {"Referer": self.host.rstrip("/") + path}  # as the browser sends it: the layout comes with the page
        for url, name in (
            (path, f"GET {path}"),
            ("/_dash-layout", "GET /_dash-layout"),
            ("/_dash-dependencies", "GET /_dash-dependencies"),
        ):
            with self.client.get(url, name=name, headers=page, catch_response=True) as response:
                if response.status_code != 200:
                    response.failure(f"HTTP {response.status_code}")
        self.interaction(scenario)

    def arrive(self) -> None:
        gevent.sleep(random.uniform(0, THINK[1]))  # people do not all open the page in the same second


class DutyOfficer(DashUser):
    wait_time = between(*THINK)

    def on_start(self):
        self.arrive()
        self.open("/", "open /")
        self._poll = gevent.spawn(self._page_poll)

    def on_stop(self):
        self._poll.kill(block=False)

    def _page_poll(self):
        while True:
            gevent.sleep(30)
            self.interaction("page poll")

    @task(4)
    def date_change(self):
        self.interaction("date change")

    @task(3)
    def region_change(self):
        self.interaction("region change")

    @task(2)
    def metric_change(self):
        self.interaction("metric change")

    @task(1)
    def layer_toggle(self):
        self.interaction("layer toggle")

    @task(1)
    def reopen(self):  # a link from a colleague: the whole page again
        self.open("/", "open /")


class WallScreen(DashUser):
    fixed_count = int(os.environ.get("WALL_USERS", "5"))
    wait_time = constant(15)

    def on_start(self):
        self.arrive()
        self.open("/wall", "open /wall")

    @task
    def poll(self):
        self.interaction("wall poll")


class ApiClient(FastHttpUser):
    fixed_count = int(os.environ.get("API_USERS", "5"))
    wait_time = between(*THINK)

    def _get(self, url: str, name: str) -> None:
        with self.client.get(url, name=name, catch_response=True) as response:
            if response.status_code != 200:
                response.failure(f"HTTP {response.status_code}")
            else:
                try:
                    json.loads(response.content)
                except ValueError:
                    response.failure("not JSON")

    @task(2)
    def summary(self):
        self._get(f"/api/v1/summary?region={random.choice(REGIONS)}&date={random.choice(DATES)}", "GET /api/v1/summary")

    @task(1)
    def timeseries(self):
        self._get(f"/api/v1/timeseries?region={random.choice(REGIONS)}", "GET /api/v1/timeseries")
