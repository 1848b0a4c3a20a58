# The two commands of the README. Each does its own set-up on a fresh machine.
.PHONY: run test geo

run:  ## start the dashboard on http://127.0.0.1:8050 (SQLite, shipped data)
	@scripts/setup.sh run
	.venv/bin/python app.py

test:  ## run the whole test suite (unit, API, browser)
	@scripts/setup.sh test
	.venv/bin/python -m pytest $(PYTEST_ARGS)

geo:  ## rebuild the simplified boundaries and the region table from geo/sources
	.venv/bin/python -m geo.build
