# The two commands of the README: `make demo` and `make test`. Everything they need is installed here.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PLUGIN_DIRS := $(wildcard plugins/*/setup.cfg plugins/*/pyproject.toml)
STAMP := $(VENV)/.installed

.PHONY: demo test lint pytest install browser fonts clean bench stack-up stack-down

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(STAMP): $(BIN)/python setup.cfg pyproject.toml $(PLUGIN_DIRS)
	$(BIN)/pip install --quiet -e '.[test]'
	@for d in $(sort $(dir $(PLUGIN_DIRS))); do echo "installing plugin $$d"; \
	  extra=$$(grep -qs '^test *=' "$$d/pyproject.toml" && echo '[test]'); \
	  $(BIN)/pip install --quiet -e "$$d$$extra" || exit 1; done
	touch $(STAMP)

install: $(STAMP)

demo: install fonts
	$(BIN)/fengqiao demo

# Headless Chromium + CJK fonts for the browser tests (Debian packages); skipped with a
# clear message where they cannot be installed, and the browser tests then skip.
browser:
	@if command -v chromium >/dev/null 2>&1 && fc-list 2>/dev/null | grep -qi 'noto.*cjk'; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	  echo "installing chromium and fonts-noto-cjk (Debian)"; \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk >/dev/null) \
	    || echo "warning: could not install chromium; browser tests will be skipped"; \
	else echo "warning: chromium missing and cannot be installed here; browser tests will be skipped"; fi

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

# One test process per core (at most 4): each has its own SQLite files, PostgreSQL database
# and Redis database number.
pytest: install browser
	$(BIN)/python -m pytest -n auto --maxprocesses=4 $(PYTEST_ARGS)

test: lint pytest

bench: install
	$(BIN)/python bench/run.py

# 2 web (one gunicorn, -w 2) + 2 RQ workers on the local PostgreSQL and Redis; see docs/deploy.md.
stack-up: install
	$(BIN)/python -m fengqiao.stack up

stack-down:
	$(BIN)/python -m fengqiao.stack down

clean:
	rm -rf $(VENV) instance .pytest_cache .ruff_cache
