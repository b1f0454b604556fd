# Two commands on a fresh machine: `make demo` and `make test`.
# durable_rules 2.0.28 compiles a C extension (gcc + Python headers) and does not import on 3.13.
PYTHON ?= $(shell for p in python3.12 python3.11 python3; do \
	command -v $$p >/dev/null 2>&1 && $$p -c 'import sys; sys.exit(not ((3, 11) <= sys.version_info[:2] < (3, 13)))' && { echo $$p; break; }; \
	done)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

# the suites start xdist workers and many `inspector` child processes: with bytecode written to
# __pycache__ (ignored by git) they do not each compile the package and rewrite every test module
# again, whatever the shell says (an empty PYTHONDONTWRITEBYTECODE is off); collection 7.7 → 5.0 s
test test-fast durations fuzz: export PYTHONDONTWRITEBYTECODE :=

.PHONY: demo test test-fast durations lint fuzz bench clean docs-images docs-web-images cases serve bench-web

$(BIN)/python:
	@test -n "$(PYTHON)" || { echo "需要 Python 3.11 或 3.12（durable_rules 不支持 3.13）" >&2; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

demo: $(STAMP)
	$(BIN)/inspector audit cases/liuzhou-2025 --out reports/out/liuzhou-2025
	@echo
	@echo "报告：reports/out/liuzhou-2025/report.html（及 report.md）；整改清单：reports/out/liuzhou-2025/rectification.xlsx；整改通知书：reports/out/liuzhou-2025/notices/"

# everything but the long fuzz profile, on all cores (pytest-xdist; worksteal evens out the few
# long tests): browser tests in headless Chromium, PostgreSQL tests when INSPECTOR_TEST_DATABASE_URL
# names a server (.ci/run starts one), the fuzz targets at INSPECTOR_FUZZ=short
test: $(STAMP)
	$(BIN)/python -m pytest -q -n auto --dist worksteal --durations=25

# make test, writing what each test's call took into tests/durations.json afresh (the `slow` marker
# follows it: tests/conftest.py); commit the file when tests were added or got slower or quicker
durations: $(STAMP)
	rm -f tests/durations.json
	$(BIN)/python -m pytest -q -n auto --dist worksteal --record-durations

# the developer loop: no browser, no database server, no tests marked slow (city-case audits,
# subprocess round trips, the CLI fuzz targets), and fewer hypothesis examples (INSPECTOR_FUZZ=dev:
# tests/fuzz/fuzzing.py, tests/budget.py): `make test` before pushing
FAST := not slow and not browser and not postgresql
test-fast: $(STAMP)
	INSPECTOR_FUZZ=dev $(BIN)/python -m pytest -q -n auto --dist worksteal -m "$(FAST)" --durations=10

# the gates CI runs before the tests: ruff's lint and format check, mypy --strict on the package
lint: $(STAMP)
	$(BIN)/ruff check inspector tests benchmarks docs
	$(BIN)/ruff format --check inspector tests benchmarks docs
	$(BIN)/mypy --strict inspector

# the web application with the demo audit imported and one account per role (one-time passwords
# printed); reports/out/demo.sqlite keeps what is done in it between runs (delete it to start afresh)
serve: $(STAMP)
	test -f reports/out/liuzhou-2025/findings.json || $(BIN)/inspector audit cases/liuzhou-2025 --out reports/out/liuzhou-2025 --quiet
	$(BIN)/inspector serve --db reports/out/demo.sqlite --demo reports/out/liuzhou-2025 --source cases/liuzhou-2025

# tests/fuzz with 2,000 examples per target, the two whole-CLI targets too (make test runs them
# with 100: INSPECTOR_FUZZ=short; tests/fuzz/fuzzing.py); the hostile-input regressions
# (test_regressions.py: no examples drawn) run in make test, which .ci/run runs just before;
# INSPECTOR_FUZZ=nightly gives 50,000, for a scheduled job
fuzz: $(STAMP)
	INSPECTOR_FUZZ=long $(BIN)/python -m pytest -q -n 2 --dist worksteal tests/fuzz --ignore=tests/fuzz/test_regressions.py --durations=12

# docs/*.png from cases/liuzhou-2025 and `inspector template` (chromium, chromium-driver, fonts-noto-cjk,
# libreoffice-calc-nogui, poppler-utils); `python docs/screenshots.py template-workbook.png` makes that one alone
docs-images: $(STAMP)
	$(BIN)/python docs/screenshots.py

# docs/web-*.png: the web application's county view, workflow page and trace (chromium, chromium-driver, fonts-noto-cjk)
docs-web-images: $(STAMP)
	$(BIN)/python docs/web_screenshots.py

# cases/ from the generators in tests/synthetic (test fixtures, not in the package), as cases/*/README.md
# documents them. Re-run, the CSV and YAML files come out byte for byte the same; the xlsx files differ in
# their creation timestamps only. snapshot writes expected-all.yaml only if the engine agrees with
# planted.yaml and expected.yaml: read its diff before committing it.
cases: $(STAMP)
	PYTHONPATH=tests $(BIN)/python -m synthetic.city cases/liuzhou-2025 --scale case --format mixed
	PYTHONPATH=tests $(BIN)/python -m synthetic.city cases/liuzhou-2022 --scale case --format mixed --as-of 2022-12-01
	PYTHONPATH=tests $(BIN)/python -m synthetic.snapshot cases/liuzhou-2025 cases/liuzhou-2022
	PYTHONPATH=tests $(BIN)/python -m synthetic.rounds

bench: $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[test,bench]'
	$(BIN)/python benchmarks/run.py

# the web application: 50 users browsing a province-scale run on loopback, and 自查 per record
bench-web: $(STAMP)
	$(BIN)/python benchmarks/web_load.py
	$(BIN)/python benchmarks/selfcheck.py

clean:
	rm -rf $(VENV) reports/out out .pytest_cache
