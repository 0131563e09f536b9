# Hokuto City consultation referral assistant.
#   make run    set up if needed, train if needed, start everything on http://127.0.0.1:8000
#   make test   set up if needed, then every test (pytest, rasa data validate, rasa test stories)
#   make eval   routing evaluation (DATA=..., OUT=...)
#   make bench  load and latency benchmarks (not part of make test); make profile: where the time goes
SHELL := /bin/bash
.DEFAULT_GOAL := help

RASA_VENV := .venv-rasa
WEB_VENV := .venv-web
RASA_PY := $(RASA_VENV)/bin/python
WEB_PY := $(WEB_VENV)/bin/python
MODEL := models/soudan.tar.gz
# Where config.yml's SpacyNLP loads GiNZA from (read from config.yml, its one home).
GINZA_PIPELINE := $(shell sed -n 's/^ *model: *//p' config.yml | head -1)
# The domain (domain.yml and the form made from bot/intake.yml) is an input through $(DOMAIN_FILES).
TRAINING_INPUTS := $(shell find data -name "*.yml" 2>/dev/null) config.yml bot/nlu/rasa_components.py \
  bot/nlu/text_models.py bot/lexicons/crisis.yml
DATA ?=
OUT ?= reports/eval.json

export PYTHONPATH := $(CURDIR)
export TF_CPP_MIN_LOG_LEVEL := 2
export TF_INTER_OP_PARALLELISM_THREADS := 1
export TF_INTRA_OP_PARALLELISM_THREADS := 2
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: help setup ginza-pipeline domain run test eval bench profile crossval train validate test-stories pytest system-deps staff-user purge clean \
  scale-deps bench-scale

help:
	@echo "make run | make test | make eval [DATA=..] [OUT=..] | make bench | make staff-user ACCOUNT=.. ROLE=staff|admin | make purge [DAYS=..]"

$(RASA_VENV)/.installed: requirements/rasa.txt requirements/rasa-constraints.txt
	@test -x $(RASA_PY) || $$(scripts/find-python 3.10) -m venv $(RASA_VENV)
	$(RASA_PY) -m pip install -q --upgrade "pip==24.0"
	$(RASA_PY) -m pip install -q -r requirements/rasa.txt -c requirements/rasa-constraints.txt
	@touch $@

$(WEB_VENV)/.installed: requirements/web.txt requirements/web-constraints.txt
	@test -x $(WEB_PY) || $$(scripts/find-python 3.11) -m venv $(WEB_VENV)
	$(WEB_PY) -m pip install -q -r requirements/web.txt -c requirements/web-constraints.txt
	@touch $@

setup: $(RASA_VENV)/.installed $(WEB_VENV)/.installed $(GINZA_PIPELINE)/meta.json

# Chromium and Japanese fonts for the browser tests (Debian packages).
system-deps:
	@if ! command -v chromium >/dev/null 2>&1 || ! fc-list 2>/dev/null | grep -qi "noto sans cjk"; then \
	  echo "Installing chromium and fonts-noto-cjk..."; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk >/dev/null; \
	fi

# redis-server and PostgreSQL for the scale-out test (tests/scale), Debian packages; the test starts
# its own throw-away instances on free loopback ports (nothing is started here).
scale-deps:
	@if ! command -v redis-server >/dev/null 2>&1 || ! ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1; then \
	  echo "Installing redis-server and postgresql..."; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server postgresql >/dev/null; \
	fi

# axe-core for the widget's accessibility scan (tests/browser), from the npm registry; not committed.
AXE_VERSION := 4.14.1
AXE_JS := tests/browser/node_modules/axe-core/axe.min.js

browser-deps: system-deps $(AXE_JS)

$(AXE_JS):
	@command -v npm >/dev/null 2>&1 || { echo "Installing npm..."; apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq npm >/dev/null; }
	npm install --prefix tests/browser --no-save --no-audit --no-fund --loglevel=error axe-core@$(AXE_VERSION)
	@test -f $@

# GiNZA as the pipeline uses it (bot/nlu/ginza_pipeline.py), saved by set-up.
$(GINZA_PIPELINE)/meta.json: config.yml bot/nlu/ginza_pipeline.py $(RASA_VENV)/.installed
	$(RASA_PY) -m bot.nlu.ginza_pipeline
	@touch $@

ginza-pipeline: $(GINZA_PIPELINE)/meta.json

# The domain Rasa trains on and validates: domain.yml and the intake form derived from bot/intake.yml
# (bot/tools/intake_domain.py). The recipe rewrites a file only when its content changes.
DOMAIN_DIR := var/domain
DOMAIN_FILES := $(DOMAIN_DIR)/domain.yml $(DOMAIN_DIR)/intake_form.yml
$(DOMAIN_DIR)/.made: domain.yml bot/intake.yml bot/core/intake.py bot/tools/intake_domain.py | $(RASA_VENV)/.installed
	$(RASA_PY) -m bot.tools.intake_domain --out $(DOMAIN_DIR)
	@touch $@
$(DOMAIN_FILES): $(DOMAIN_DIR)/.made ;

domain: $(DOMAIN_DIR)/.made

$(MODEL): $(TRAINING_INPUTS) $(DOMAIN_FILES) $(GINZA_PIPELINE)/meta.json | $(RASA_VENV)/.installed
	@mkdir -p models var
	@echo "Training the model (a few minutes on 2 cores)..."
	@start=$$(date +%s); \
	$(RASA_VENV)/bin/rasa train --domain $(DOMAIN_DIR) --fixed-model-name soudan --out models --quiet > var/train.log 2>&1 \
	  || { tail -40 var/train.log; exit 1; }; \
	echo "Trained in $$(( $$(date +%s) - start )) s (log: var/train.log)"

train: $(MODEL)

run: setup $(MODEL)
	$(WEB_PY) -m bot.tools.runner

validate: setup domain
	$(RASA_VENV)/bin/rasa data validate --domain $(DOMAIN_DIR) --quiet

test-stories: setup $(MODEL)
	$(RASA_VENV)/bin/rasa test core --model $(MODEL) --stories tests/stories \
	  --fail-on-prediction-errors --out results/stories --quiet

pytest: setup system-deps browser-deps scale-deps $(MODEL)
	$(RASA_PY) -m pytest -q tests/actions
	$(WEB_PY) -m pytest -q tests --ignore=tests/actions

test: setup system-deps $(MODEL) validate test-stories pytest

# Cross-validation of the intent classifier on the project's examples (bot/tools/crossval.py; a few minutes).
crossval: setup
	$(RASA_PY) -m bot.tools.crossval --folds $(or $(FOLDS),3)

eval: setup $(MODEL)
	$(RASA_PY) -m bot.tools.evaluate $(if $(DATA),--data $(DATA)) --out $(OUT) $(EVAL_FLAGS)

bench: setup $(MODEL)
	$(WEB_PY) -m tests.bench.run

# Where one answer's milliseconds go: py-spy on all three processes under load (tests/bench/profile.py,
# docs/performance.md). py-spy is a tool for this target only, not a requirement of the project.
PY_SPY_VERSION := 0.4.3
profile: setup $(MODEL)
	@test -x $(RASA_VENV)/bin/py-spy || $(RASA_PY) -m pip install -q "py-spy==$(PY_SPY_VERSION)"
	$(WEB_PY) -m tests.bench.profile

# Throughput with 1 and 2 Rasa servers sharing PostgreSQL and redis (tests/bench/scale.py; a few minutes).
bench-scale: setup scale-deps $(MODEL)
	$(WEB_PY) -m tests.bench.scale

# Staff accounts (no default account): make staff-user ACCOUNT=tanaka ROLE=staff|admin (asks the password).
staff-user: setup
	@test -n "$(ACCOUNT)" || { echo "usage: make staff-user ACCOUNT=<name> ROLE=staff|admin"; exit 2; }
	$(WEB_VENV)/bin/flask --app bot.web staff create --username "$(ACCOUNT)" --role "$(or $(ROLE),staff)"

# Retention: remove residents' words older than DAYS days (default RETENTION_DAYS or 365); counts stay.
purge: setup
	$(WEB_VENV)/bin/flask --app bot.web staff purge $(if $(DAYS),--days "$(DAYS)")
	@if [ -n "$$TRACKER_STORE_URL" ]; then \
	  $(RASA_PY) -m bot.tools.tracker_retention --days "$(or $(DAYS),$$($(WEB_PY) -c 'from bot.web.staff.retention import default_days; print(default_days())'))"; \
	fi

clean:
	rm -rf models var/run results
