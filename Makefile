# The two commands of the README: `make demo` and `make test`. Everything they need is installed here.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PLUGIN_DIRS := $(wildcard plugins/*/setup.cfg plugins/*/pyproject.toml)
# Each bundled plugin's folder, with its `test` extra when its pyproject.toml declares one.
PLUGIN_PROJECTS := $(foreach d,$(sort $(dir $(PLUGIN_DIRS))),$(d:/=)$(if $(shell grep -s '^test *=' $(d)pyproject.toml),[test]))
TOOLS := $(VENV)/.build-tools
STAMP := $(VENV)/.installed
DEMO_PORT ?= 5000
# axe-core for the accessibility browser test (tests/browser/test_accessibility.py), from npm.
AXE_VERSION ?= 4.14.1
AXE_DIR := .cache/axe

.PHONY: demo test lint pytest install browser fonts clean bench screenshots stack-up stack-down

$(BIN)/python:
	@$(PYTHON) -m venv $(VENV)

# setuptools >= 77 (PEP 639 licence fields) in the venv itself: the editable installs build
# here instead of in one throwaway build environment each, and so does the wheel test.
$(TOOLS): $(BIN)/python
	@$(BIN)/pip install -qq --upgrade pip 'setuptools>=77'
	@touch $@

# The core and every bundled plugin, editable, in one pip run (one dependency resolution).
$(STAMP): $(TOOLS) setup.py setup.cfg pyproject.toml $(PLUGIN_DIRS)
	@echo "installing fengqiao and its plugins into $(VENV) …"
	@$(BIN)/pip install -qq --no-build-isolation -e '.[test]' $(foreach p,$(PLUGIN_PROJECTS),-e '$(p)')
	@touch $@

install: $(STAMP)

# pip stays quiet (and runs only when the stamp is stale); the command prints the banner.
demo: install fonts
	@$(BIN)/fengqiao demo --port $(DEMO_PORT)

# Headless Chromium + CJK fonts for the browser tests (Debian packages), and axe-core (npm,
# into the gitignored .cache/axe); skipped with a clear message where they cannot be
# installed, and the browser tests (or only the accessibility test) then skip.
browser:
	@if command -v chromium >/dev/null 2>&1 && fc-list 2>/dev/null | grep -qi 'noto.*cjk'; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	  echo "installing chromium and fonts-noto-cjk (Debian)"; \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk >/dev/null) \
	    || echo "warning: could not install chromium; browser tests will be skipped"; \
	else echo "warning: chromium missing and cannot be installed here; browser tests will be skipped"; fi
	@if grep -qs '"version": "$(AXE_VERSION)"' $(AXE_DIR)/node_modules/axe-core/package.json; then :; \
	elif command -v npm >/dev/null 2>&1; then \
	  npm install --prefix $(AXE_DIR) axe-core@$(AXE_VERSION) --no-audit --no-fund --silent \
	    || echo "warning: could not install axe-core; the accessibility test will be skipped"; \
	else echo "warning: npm missing; the accessibility test (axe-core) will be skipped"; fi

# A CJK font for certificate PDFs (embedded in each PDF, so readers need none).
fonts:
	@if fc-list 2>/dev/null | grep -qi 'noto.*cjk'; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	  echo "installing fonts-noto-cjk (Debian)"; \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq fonts-noto-cjk >/dev/null) \
	    || echo "warning: could not install fonts-noto-cjk; certificate PDFs need FENGQIAO_PDF_FONT"; \
	else echo "warning: no CJK font; set FENGQIAO_PDF_FONT for certificate PDFs"; fi

lint: install
	$(BIN)/ruff check platform tests bench plugins

# One test process per CPU plus one, at most 4 (fengqiao.testing decides `-n auto`): each has
# its own SQLite files, PostgreSQL database and Redis database number; tests sharing a
# module-scoped fixture stay in one process (loadgroup). Every test runs, slow ones included
# (docs/testing.md; `make pytest PYTEST_ARGS='-m "not slow"'` for a quick loop).
# Bytecode is written even where PYTHONDONTWRITEBYTECODE is set: without the cached,
# assert-rewritten test modules every test process spends 8–10 s CPU rewriting them again.
pytest: export PYTHONDONTWRITEBYTECODE :=
pytest: install browser
	$(BIN)/python -m pytest -n auto --maxprocesses=4 --dist loadgroup $(PYTEST_ARGS)

test: lint pytest

# The browser tests again, writing what each saw to test-artifacts/*.png (make test skips the
# screenshots: they are for people, and the long full-page ones cost Chromium seconds each).
screenshots: install browser
	FENGQIAO_SCREENSHOTS=1 $(BIN)/python -m pytest -n auto --maxprocesses=4 --dist loadgroup -m browser $(PYTEST_ARGS)

bench: install
	$(BIN)/python bench/run.py

# 2 web (one gunicorn, -w 2) + 2 RQ workers on the local PostgreSQL and Redis; see docs/deploy.md.
stack-up: install
	$(BIN)/python -m fengqiao.stack up

stack-down:
	$(BIN)/python -m fengqiao.stack down

clean:
	rm -rf $(VENV) instance .pytest_cache .ruff_cache
