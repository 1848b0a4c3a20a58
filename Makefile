# The two commands of the README. Each does its own set-up on a fresh machine.
.PHONY: run test test-fast lint fuzz bench bench-callbacks bench-scale bench-forecast load load-api geo

run:  ## start the dashboard on http://127.0.0.1:8050 (SQLite, shipped data); upgrades the store's schema first
	@scripts/setup.sh run
	.venv/bin/flask --app app:server db upgrade
	.venv/bin/flask --app app:server precompress
	.venv/bin/python app.py

# pytest-xdist workers: the 2 cores of the project's machines (TEST_WORKERS=0 runs in one process). Each test module
# stays on one worker, with its module fixtures (a served app of its own, a filled store).
TEST_WORKERS ?= 2

test:  ## run the whole test suite (unit, API, browser)
	@scripts/setup.sh test
	.venv/bin/python -m pytest -n $(TEST_WORKERS) --dist loadfile $(PYTEST_ARGS)

test-fast:  ## the tests that need no browser, no served app or command and no fuzzing (~340, under a minute)
	@scripts/setup.sh test
	.venv/bin/python -m pytest -m "not browser and not server and not fuzz" -n $(TEST_WORKERS) --dist loadfile \
		$(PYTEST_ARGS)

lint:  ## check the code: one style (ruff format and ruff check) and imports pointing one way (pyproject.toml)
	@scripts/setup.sh test
	.venv/bin/ruff format --check .
	.venv/bin/ruff check .
	.venv/bin/lint-imports

fuzz:  ## 1,000 generated malformed and hostile files through the real ingest (CI runs a seeded 100); FUZZ_SEED= to vary
	@scripts/setup.sh test
	FUZZ_FILES=$${FUZZ_FILES:-1000} .venv/bin/python -m pytest tests/test_fuzz.py -p no:cacheprovider

bench:  ## the interaction benchmark (input to frame, as ../shared/bench measures it) and one view's server time
	@scripts/setup.sh test
	.venv/bin/python -m benchmarks.interaction $(BENCH_ARGS)
	.venv/bin/python -m benchmarks.server_view

bench-callbacks:  ## benchmark / in chromium and replay its callbacks over HTTP (server time per callback)
	@scripts/setup.sh test
	.venv/bin/python -m benchmarks.bench

bench-forecast:  ## one region's forecast cold and warm, and the whole backtest (benchmarks/forecast.py)
	@scripts/setup.sh test
	.venv/bin/python -m benchmarks.forecast

load:  ## 50 simulated users for 2 minutes against gunicorn (USERS=, DURATION=); not part of the test gate
	@scripts/setup.sh test
	.venv/bin/python -m benchmarks.load

load-api:  ## 1,000 anonymous API clients for 60 s against nginx (deploy/nginx.conf) and gunicorn (CLIENTS=, DURATION=)
	@scripts/setup.sh test
	.venv/bin/python -m benchmarks.api_load

bench-scale:  ## on the scale data set (1M cases, 100k facilities, 5M flow rows; generated once): start, memory, views
	@scripts/setup.sh test
	.venv/bin/python -m benchmarks.bench --scale
	.venv/bin/python -m benchmarks.interaction --scale
	.venv/bin/python -m benchmarks.server_view --scale

geo:  ## rebuild the simplified boundaries and the region table from geo/sources
	.venv/bin/python -m geo.build
