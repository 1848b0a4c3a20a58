"""Record what the pages really send: open `/` and `/wall` in headless chromium (Debian's /usr/bin/chromium),
perform the duty officer's interactions, wait for each page's own poll, and keep every POST to
/_dash-update-component with the status the browser got. The load test replays these bodies.

Runs in the project venv (playwright); the result is a JSON file the locustfile reads:
``{"scenarios": {name: [{"output", "body", "status", "wave"}]}, "dates": [...], "regions": [...]}``.
``wave`` orders the requests of one interaction as the browser sent them: requests of one wave go out together, the
next wave when the previous one has been answered (Dash chains callbacks on their answers).
"""

from __future__ import annotations

import json
import re
import time
import urllib.request

from playwright.sync_api import sync_playwright

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
MAP_DRAWN = (
    "() => document.querySelector('#region-map .js-plotly-plot')?.data?.length >= 1"
    " && document.querySelector('#region-map .maplibregl-canvas')"
)


def waves(recorded: list[dict]) -> list[dict]:
    """Give each recorded request its wave, from the browser's timing: requests that went out before any response
    of the current wave came back were sent together by Dash (one wave); a request sent after that was caused by
    an answer (a chained callback, or a component that a response rendered) and starts the next wave."""
    recorded = sorted(recorded, key=lambda i: i["sent"])
    wave, first_answer = 0, None
    for item in recorded:
        if first_answer is not None and item["sent"] >= first_answer:
            wave, first_answer = wave + 1, None
        item["wave"] = wave
        first_answer = item["answered"] if first_answer is None else min(first_answer, item["answered"])
    for item in recorded:
        del item["sent"], item["answered"]
    return recorded


class Recorder:
    def __init__(self, page):
        self.items: list[dict] = []
        self.sent: dict = {}
        page.on("request", self._on_request)
        page.on("response", self._on_response)

    @staticmethod
    def _is_callback(request) -> bool:
        return request.method == "POST" and "_dash-update-component" in request.url

    def _on_request(self, request):
        if self._is_callback(request):
            self.sent[id(request)] = time.monotonic()

    def _on_response(self, response):
        request = response.request
        if self._is_callback(request):
            body = request.post_data_json
            self.items.append(
                {
                    "output": body["output"],
                    "body": json.dumps(body, ensure_ascii=False),
                    "status": response.status,
                    "sent": self.sent.pop(id(request), time.monotonic()),
                    "answered": time.monotonic(),
                }
            )

    def take(self) -> list[dict]:
        items, self.items = self.items, []
        return waves(items)


def _settle(page, recorder: Recorder, quiet_ms: int = 2500, limit_s: float = 20) -> None:
    """Wait until no callback response has come for quiet_ms (the interaction's chain has finished)."""
    deadline = time.time() + limit_s
    seen, since = -1, time.time()
    while time.time() < deadline:
        page.wait_for_timeout(200)
        if len(recorder.items) != seen:
            seen, since = len(recorder.items), time.time()
        elif (time.time() - since) * 1000 >= quiet_ms and seen > 0:
            return


def _wait_for(page, recorder: Recorder, output: str, limit_s: float) -> None:
    deadline = time.time() + limit_s
    while time.time() < deadline and not any(i["output"] == output for i in recorder.items):
        page.wait_for_timeout(250)
    page.wait_for_timeout(300)


def pick_region(page, name: str) -> None:
    """Click the region's row in the unit table, as a duty officer does; if the table has no such button (its
    markup changes), choose the region in the region dropdown instead."""
    button = page.locator("#unit-table").get_by_role("button", name=name, exact=True)
    try:
        button.click(timeout=5000)
    except Exception:  # noqa: BLE001  (playwright's timeout)
        page.click("#region-select")
        page.locator(".dash-dropdown-option").filter(has_text=re.compile(f"^\\s*{name}\\s*$")).first.click()


def capture(url: str) -> dict:
    scenarios: dict[str, list[dict]] = {}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1920, "height": 1080}, locale="zh-CN")

        wall = context.new_page()
        wall_rec = Recorder(wall)
        wall.goto(f"{url}/wall")
        wall.wait_for_function(MAP_DRAWN, timeout=60_000)
        _settle(wall, wall_rec)
        scenarios["open /wall"] = wall_rec.take()
        wall_opened = time.time()

        page = context.new_page()
        rec = Recorder(page)
        page.goto(f"{url}/?region=610000&date=2020-02-15")
        page.wait_for_function(MAP_DRAWN, timeout=60_000)
        _settle(page, rec)
        scenarios["open /"] = rec.take()
        page_opened = time.time()

        page.click("#date-next")
        _settle(page, rec)
        scenarios["date change"] = rec.take()

        pick_region(page, "西安市")
        _settle(page, rec)
        scenarios["region change"] = rec.take()

        page.click("#metric-select")
        page.locator(".dash-dropdown-option", has_text="现有确诊").click()
        _settle(page, rec)
        scenarios["metric change"] = rec.take()

        page.get_by_role("checkbox", name="发热门诊", exact=True).check()
        _settle(page, rec)
        scenarios["layer toggle"] = rec.take()

        # the pages' own timers: /wall every 15 s, / every 30 s
        _wait_for(wall, wall_rec, "data-version.data", limit_s=max(1.0, 20 - (time.time() - wall_opened)))
        scenarios["wall poll"] = [i for i in wall_rec.take() if i["output"] == "data-version.data"][:1]
        for item in scenarios["wall poll"]:
            item["wave"] = 0
        _wait_for(page, rec, "page-version.data", limit_s=max(1.0, 35 - (time.time() - page_opened)))
        scenarios["page poll"] = [i for i in rec.take() if i["output"] == "page-version.data"][:1]
        for item in scenarios["page poll"]:
            item["wave"] = 0
        browser.close()

    for name, items in scenarios.items():
        if not items:
            raise SystemExit(f"capture: the browser sent no callback for {name!r}")
    with urllib.request.urlopen(f"{url}/api/v1/regions") as r:
        regions = [row["adcode"] for row in json.load(r) if row["level"] in ("province", "unit")]
    with urllib.request.urlopen(f"{url}/api/v1/timeseries?region=610000") as r:
        days = [row["date"] for row in json.load(r)]
    # the first and last day are edges (date-prev / date-next do nothing there); any day between is a real choice
    return {"url": url, "scenarios": scenarios, "dates": days[1:-1], "regions": sorted(set(regions))}


if __name__ == "__main__":
    import sys

    print(json.dumps(capture(sys.argv[1]), ensure_ascii=False, indent=1))
