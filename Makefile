# mediamgr: `make run` starts everything on one machine, `make test` runs the whole suite.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
HTMX_VERSION := 2.0.11
HTMX_WS_VERSION := 2.0.4
TUS_JS_VERSION := 4.3.1
SORTABLE_VERSION := 1.15.7
HASH_WASM_VERSION := 4.13.0
# axe-core: the browser tests' accessibility checks (tests/browser/vendor), not served
AXE_VERSION := 4.14.1

.PHONY: run test faults bench chromium vendor lint clean

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11) and "mediamgr needs Python 3.11 or newer")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed-run: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml $(VENV)/.installed-run
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

run: $(VENV)/.installed-run
	$(BIN)/python -m mediamgr.runner

# Debian's Chromium drives the browser tests; Playwright never downloads a browser of its own.
chromium:
	@if [ ! -x /usr/bin/chromium ]; then \
		echo "Installing Debian's chromium for the browser tests"; \
		$(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq chromium >/dev/null; \
	fi

# The suite runs in PYTEST_WORKERS processes (pytest-xdist); each has its own database schema,
# Redis namespace, S3 stand-in and browser server. PYTEST_WORKERS=0 runs it in this one.
PYTEST_WORKERS ?= 2

test: $(VENV)/.installed-test chromium
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS) --dist loadgroup $(PYTEST_ARGS)

# The fault suite alone (it is part of `make test` too): a scaled-out set of real processes broken one
# fault at a time (tests/faults). FAULT_MAINTENANCE_INTERVAL sets its maintenance interval (2 s).
faults: $(VENV)/.installed-test
	$(BIN)/python -m pytest -m faults -s $(PYTEST_ARGS) tests/faults

# Unused imports and names, undefined names: the pyflakes rules.
lint: $(VENV)/.installed-test
	$(BIN)/ruff check --select F mediamgr tests benchmarks

bench: $(VENV)/.installed-test
	$(BIN)/python -m benchmarks.run $(BENCH_ARGS)

# Refresh the vendored front-end files from the npm registry (versions in the file names).
vendor:
	rm -rf .vendor-tmp && mkdir .vendor-tmp
	cd .vendor-tmp && npm pack --silent htmx.org@$(HTMX_VERSION) htmx-ext-ws@$(HTMX_WS_VERSION) \
		tus-js-client@$(TUS_JS_VERSION) sortablejs@$(SORTABLE_VERSION) hash-wasm@$(HASH_WASM_VERSION) axe-core@$(AXE_VERSION) >/dev/null \
		&& for f in *.tgz; do tar xzf $$f --one-top-level=$${f%.tgz}; done
	cp .vendor-tmp/htmx.org-$(HTMX_VERSION)/package/dist/htmx.min.js static/vendor/htmx-$(HTMX_VERSION).min.js
	cp .vendor-tmp/htmx-ext-ws-$(HTMX_WS_VERSION)/package/dist/ws.min.js static/vendor/htmx-ext-ws-$(HTMX_WS_VERSION).min.js
	cp .vendor-tmp/tus-js-client-$(TUS_JS_VERSION)/package/dist/tus.min.js static/vendor/tus-js-client-$(TUS_JS_VERSION).min.js
	cp .vendor-tmp/sortablejs-$(SORTABLE_VERSION)/package/Sortable.min.js static/vendor/sortablejs-$(SORTABLE_VERSION).min.js
	cp .vendor-tmp/hash-wasm-$(HASH_WASM_VERSION)/package/dist/sha256.umd.min.js static/vendor/hash-wasm-$(HASH_WASM_VERSION)-sha256.umd.min.js
	cp .vendor-tmp/axe-core-$(AXE_VERSION)/package/axe.min.js tests/browser/vendor/axe-core-$(AXE_VERSION).min.js
	rm -rf .vendor-tmp

clean:
	rm -rf $(VENV) .pytest_cache
