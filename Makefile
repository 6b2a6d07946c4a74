# make run   - serve the blog on http://127.0.0.1:5000 (sets everything up on first use)
# make test  - the whole test suite (unit, livecov, browser) with one coverage report
PYTHON ?= python3
UV := $(shell command -v uv 2>/dev/null || echo $(CURDIR)/.tools/bin/uv)
VENV := .venv
BIN := $(VENV)/bin
INSTANCE := $(CURDIR)/instance
export UV_PYTHON_DOWNLOADS := never

.PHONY: run test lint e2e browser bench mutation clean

$(UV):
	$(PYTHON) -m venv .tools
	.tools/bin/pip install --quiet uv

$(VENV)/.synced: pyproject.toml uv.lock | $(UV)
	$(UV) sync --locked --python $(PYTHON)
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

test: lint browser
	@rm -rf htmlcov test-artifacts
	$(BIN)/python -m pytest --cov --cov-context=test --cov-report=term-missing:skip-covered \
		--cov-report=html $(PYTEST_ARGS)
	@$(BIN)/livecov contexts
	@echo "HTML coverage report: htmlcov/index.html; screenshots: test-artifacts/screenshots/"

clean:
	rm -rf $(VENV) .tools htmlcov test-artifacts .coverage .coverage.* instance
