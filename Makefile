# deskwatch — every target sets itself up: a fresh machine needs only Python 3.11 and make.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# Keep Prefect's own state inside the project unless the operator points elsewhere.
export PREFECT_HOME ?= $(CURDIR)/var/prefect
export PREFECT_LOGGING_EXTRA_LOGGERS ?= monitors,alerts,flows
export PREFECT_SERVER_ANALYTICS_ENABLED ?= false
export PREFECT_LOGGING_TO_API_WHEN_MISSING_FLOW ?= ignore

.PHONY: install system-deps run demo replay test lint typecheck bench eval server deploy worker clean

install: $(STAMP)

$(STAMP): pyproject.toml requirements.lock
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements.lock
	$(BIN)/pip install --quiet --disable-pip-version-check --no-deps -e .
	touch $(STAMP)

run: $(STAMP)           ## one full monitoring cycle over seeds/
	@mkdir -p "$(PREFECT_HOME)"
	$(BIN)/deskwatch run

demo: $(STAMP)          ## the same cycle against the bundled offline replay site
	@mkdir -p "$(PREFECT_HOME)"
	$(BIN)/deskwatch demo

replay: $(STAMP)        ## serve the offline replay site for deployments until Ctrl-C (PORT=8765)
	$(BIN)/deskwatch replay serve --port $${PORT:-8765}

system-deps:            ## Debian packages the tests use (PostgreSQL); no-op when present
	bash scripts/system-deps.sh

test: $(STAMP) system-deps  ## lint, format, types and the whole test suite
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

bench: $(STAMP)          ## benchmarks; figures printed and saved under var/bench/
	$(BIN)/python -m bench

eval: $(STAMP)           ## topic matching precision/recall/F1 on the labelled development set
	$(BIN)/python -m eval

server: $(STAMP)        ## a local Prefect server with its UI on http://127.0.0.1:4200
	@mkdir -p "$(PREFECT_HOME)"
	$(BIN)/prefect server start --host 127.0.0.1

# The work pool is created only when missing: `--overwrite` would reset its job template and
# lose what an operator changed in the UI. DESKWATCH_PROJECT_DIR is unset for the deploy, which
# would otherwise write this machine's path into prefect.yaml's pull step.
deploy: $(STAMP)        ## the work pool (if missing), prefect.yaml's deployments, the operators' automation
	$(BIN)/prefect work-pool inspect deskwatch >/dev/null 2>&1 \
		|| $(BIN)/prefect work-pool create deskwatch --type process
	env -u DESKWATCH_PROJECT_DIR $(BIN)/prefect --no-prompt deploy --all
	$(BIN)/deskwatch operators setup

# Flow runs start in DESKWATCH_PROJECT_DIR (prefect.yaml's pull step): this checkout, unless set.
worker: $(STAMP)        ## a process worker for the deskwatch pool
	DESKWATCH_PROJECT_DIR="$${DESKWATCH_PROJECT_DIR:-$(CURDIR)}" \
		$(BIN)/prefect worker start --pool deskwatch --type process

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
