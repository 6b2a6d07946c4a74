# make run   - serve the blog on http://127.0.0.1:5000 (sets everything up on first use)
# make test  - the whole test suite (unit, livecov, browser) with one coverage report
# make test-affected - only the tests your changes can break, from the last make test's data
PYTHON ?= python3
UV := $(shell command -v uv 2>/dev/null || echo $(CURDIR)/.tools/bin/uv)
# VENV=.venv-3.13 PYTHON=python3.13: another Python in its own venv, beside the default one.
VENV ?= .venv
BIN := $(VENV)/bin
INSTANCE := $(CURDIR)/instance
export UV_PYTHON_DOWNLOADS := never

.PHONY: run test test-affected combine report durations lint docs e2e browser bench bench-tools mutation affected-check affected-proof clean

$(UV):
	$(PYTHON) -m venv .tools
	.tools/bin/pip install --quiet uv

$(VENV)/.synced: pyproject.toml livecov/pyproject.toml flaskr/pyproject.toml uv.lock | $(UV)
	UV_PROJECT_ENVIRONMENT=$(VENV) $(UV) sync --locked --compile-bytecode --python $(PYTHON)
	@touch $@

run: $(VENV)/.synced
	@test -f $(INSTANCE)/flaskr.sqlite || FLASKR_INSTANCE_PATH=$(INSTANCE) $(BIN)/flask --app flaskr init-db
	FLASKR_INSTANCE_PATH=$(INSTANCE) $(BIN)/flask --app flaskr run --host 127.0.0.1 --port 5000

# A system Chromium is used when there is one; otherwise Playwright's own is installed.
browser: $(VENV)/.synced
	@$(BIN)/python -c "from livecov.browser import find_chromium; find_chromium()" 2>/dev/null \
		|| $(BIN)/playwright install chromium

lint: $(VENV)/.synced
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(DOCS_BUILD)

# The documentation site (mkdocs.yml, docs/) into site/; --strict: a broken link or anchor fails.
DOCS_BUILD = NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --quiet
docs: $(VENV)/.synced
	$(DOCS_BUILD)

# One measured run over unit, livecov and browser tests (coverage run, not pytest --cov:
# pytest imports plugins such as livecov's before pytest-cov could start measuring), then
# one combined report: terminal, htmlcov/ with each line's tests, and what each layer
# alone covers. On JOBS processes (pytest-xdist; JOBS=0: serially); tests/conftest.py
# sends all browser tests to one of them (one Chromium, one live server to start).
#   make test SHARD=i/n  runs shard i of n (pytest-split, by the durations recorded in
#                        .test_durations) and leaves its data in .coverage.shard-i-of-n,
#                        without a report: fail_under applies to the whole, not a part.
#   make combine DATA="DIR_OR_FILE ..."  folds shards' data, from any machine or checkout,
#                        into the one report, with its threshold.
#   make durations       records the tests' durations for SHARD anew.
JOBS ?= 2
SHARD ?=
shard_index = $(word 1,$(subst /, ,$(SHARD)))
shard_count = $(word 2,$(subst /, ,$(SHARD)))
PYTEST_RUN = $(BIN)/coverage run -m pytest -n $(JOBS) --livecov-test-contexts

test: lint browser
	@rm -rf htmlcov test-artifacts .coverage .coverage.*
ifeq ($(SHARD),)
	$(PYTEST_RUN) $(PYTEST_ARGS)
	@$(BIN)/coverage combine -q
	$(REPORT)
else
	$(PYTEST_RUN) --splits $(shard_count) --group $(shard_index) $(PYTEST_ARGS)
	@$(BIN)/coverage combine -q
	@mv .coverage .coverage.shard-$(shard_index)-of-$(shard_count)
	@echo "Coverage data of shard $(SHARD): .coverage.shard-$(shard_index)-of-$(shard_count);" \
		'the report: make combine DATA="<every shard'"'"'s data>"'
endif

# The daily loop: only the tests the working tree's changes can break (livecov affected),
# from the data the last full `make test` left in .coverage (it records its commit), against
# that commit; says how many tests it deselected and why. Nothing is measured and .coverage
# is left as it was. When that data is missing or cannot answer (no record, its commit gone)
# it says so in one line and runs every test. CI always runs everything (make test).
# Fewer than AFFECTED_SERIAL_BELOW tests run in one process: starting pytest-xdist's
# workers costs more than they save on a few tests (60 s serially against 79 s on -n 2 for
# 22 tests, at a load of 17); more run on JOBS processes.
AFFECTED_DATA ?= .coverage
AFFECTED_SERIAL_BELOW ?= 100

test-affected: browser
	@why=$$(mktemp); trap 'rm -f "$$why"' EXIT; \
	if selected=$$($(BIN)/livecov affected --data-file $(AFFECTED_DATA) 2>"$$why"); then \
		cat "$$why"; \
		jobs=$(JOBS); \
		test "$$(echo "$$selected" | grep -c .)" -lt $(AFFECTED_SERIAL_BELOW) && jobs=0; \
		$(BIN)/pytest -n $$jobs --livecov-affected-data=$(AFFECTED_DATA) --livecov-affected= \
			$(PYTEST_ARGS) || test $$? -eq 5; \
	else \
		echo "test-affected: $$(tail -n 1 "$$why" | sed 's/^livecov: //'); running every test"; \
		$(BIN)/pytest -n $(JOBS) $(PYTEST_ARGS); \
	fi

combine: $(VENV)/.synced
	@test -n "$(DATA)" || { echo 'usage: make combine DATA="DIR_OR_FILE ..."' >&2; exit 2; }
	@rm -rf htmlcov .coverage
	$(BIN)/coverage combine --keep -q $(DATA)
	$(REPORT)

# The report of .coverage, as a recipe of its own (not a sub-make: a sub-make would check
# the venv again, and `make -o` does not reach it).
define REPORT
	@$(BIN)/python -m livecov.jinja .coverage >/dev/null
	@$(BIN)/livecov record || true  # for livecov affected; needs a git checkout
	@$(BIN)/coverage html -q
	@status=0; $(BIN)/coverage report --skip-covered || status=$$?; \
	$(BIN)/livecov contexts --include 'flaskr/src/flaskr/*'; \
	echo "HTML report: htmlcov/index.html; screenshots: test-artifacts/screenshots/"; \
	exit $$status
endef

report: $(VENV)/.synced
	$(REPORT)

durations: $(VENV)/.synced
	$(BIN)/pytest -n $(JOBS) -q --store-durations --durations-path .test_durations

# Benchmarks: every figure of docs/benchmarks.md in one table (about 8 minutes).
bench: $(VENV)/.synced browser bench-tools
	$(BIN)/python bench/run_all.py

# What the benchmarks run besides Python: wrk (HTTP load) and hyperfine (timing commands).
# The Debian packages when they are missing and this is root; otherwise what to install.
BENCH_TOOLS = wrk hyperfine
bench-tools:
	@missing=$$(for t in $(BENCH_TOOLS); do command -v $$t >/dev/null || echo $$t; done); \
	if [ -z "$$missing" ]; then exit 0; fi; \
	if [ "$$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then \
		echo "bench: missing:" $$missing "(Debian: apt-get install" $$missing")" >&2; exit 2; fi; \
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null

# Proof that `livecov affected` selects what matters: realistic changes to flaskr, one at a
# time, the full suite against the selected tests (and pytest-testmon's); about 20 minutes.
# Not part of `make test`. Results and method: docs/benchmarks.md. AFFECTED_ARGS="--only sql".
affected-check: browser
	$(BIN)/python bench/affected_check.py $(AFFECTED_ARGS)

# The same question on every mutant of flaskr (cosmic-ray's and mutation/templates.py's), in a
# throw-away copy: does the selection catch each mutant the full suite kills? Hours for all;
# resumable (bench/results/affected_proof.jsonl); PROOF_ARGS="--sessions flaskr-templates
# --limit 20", or "--selectors livecov,testmon --every 4" to judge pytest-testmon on the same
# mutants. Method and results: docs/benchmarks.md.
affected-proof: browser
	UV=$(UV) nice -n 10 $(BIN)/python bench/affected_proof.py $(PROOF_ARGS)

# Mutation testing with cosmic-ray, in a temporary copy (the tree is never mutated): score and
# surviving mutants per package. Hours for everything; not part of `make test`; see docs/testing.md.
# MUTATION_ARGS="--package flaskr --jobs 2" or "--session livecov-middleware" to narrow it.
mutation: $(VENV)/.synced
	UV=$(UV) nice -n 10 $(BIN)/python mutation/run.py $(MUTATION_ARGS)

clean:
	rm -rf $(VENV) .tools htmlcov test-artifacts .coverage .coverage.* instance
