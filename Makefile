# The two commands: `make demo` runs the system with demo data; `make test` runs every check.
PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin

.PHONY: demo test lint typecheck browser wrk clean vendor

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# Stamps re-run the install when pyproject.toml changes.
$(VENV)/.runtime: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.test: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@ $(VENV)/.runtime

demo: $(VENV)/.runtime
	$(BIN)/lanxi demo

# Headless Chromium for the browser tests comes from Debian, not from a Playwright download.
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  echo "installing Debian's chromium for the browser tests"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; }
	@# A CJK font, so screenshots show Chinese rather than empty boxes.
	@fc-list :lang=zh 2>/dev/null | grep -q . || { \
	  echo "installing a Chinese font for the browser screenshots"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq fonts-wqy-microhei; }

# wrk loads the callback benchmark (bench/callback_throughput.py); its smoke test runs it at a tiny size.
wrk:
	@command -v wrk >/dev/null 2>&1 || { \
	  echo "installing Debian's wrk for the benchmark smoke test"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk; }

# Apache ECharts is vendored (committed under web/static/vendor/): the bureau's network may have no
# internet, so the panel never loads it from a CDN. Refresh it from the npm registry with `make vendor`
# (needs npm; neither `make test` nor `make demo` depends on it).
ECHARTS_VERSION ?= 5
vendor:
	cd /tmp && rm -rf echarts-vendor && mkdir echarts-vendor && cd echarts-vendor && \
	  npm pack --silent echarts@$(ECHARTS_VERSION) && tar -xzf echarts-*.tgz
	cp /tmp/echarts-vendor/package/dist/echarts.min.js web/static/vendor/echarts.min.js
	cp /tmp/echarts-vendor/package/LICENSE web/static/vendor/echarts.LICENSE
	cp /tmp/echarts-vendor/package/NOTICE web/static/vendor/echarts.NOTICE
	cp /tmp/echarts-vendor/package/licenses/LICENSE-d3 web/static/vendor/echarts.LICENSE-d3
	rm -rf /tmp/echarts-vendor

lint: $(VENV)/.test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

typecheck: $(VENV)/.test
	$(BIN)/mypy

test: $(VENV)/.test browser wrk lint typecheck
	$(BIN)/python -m pytest

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
