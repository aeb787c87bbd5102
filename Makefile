# Daily work. `make help` lists the targets; every target does its own set-up.
SHELL := /bin/bash
VENV  := .venv
PY    := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)

# quiet TensorFlow/SQLAlchemy start-up noise; never hides errors
export TF_CPP_MIN_LOG_LEVEL := 3
export SQLALCHEMY_SILENCE_UBER_WARNING := 1
# no usage metadata to Rasa from any target (training, validation, tests, run)
export RASA_TELEMETRY_ENABLED := false
export PYTHONDONTWRITEBYTECODE := 1

.DEFAULT_GOAL := help
.PHONY: help setup train run test eval validate check bench bench-load bench-scale services lint clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-9s %s\n", $$1, $$2}'

setup: $(STAMP) ## create .venv (Python 3.10) and install the project (idempotent)

$(STAMP): pyproject.toml
	@test -x $(PY) || "$$(scripts/find-python)" -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip wheel
	$(PY) -m pip install --quiet -e ".[dev]"
	@rm -f $(VENV)/.installed-* && touch $@

train: setup ## train the model (skipped when data, domain and config are unchanged)
	$(PY) -m tools.train

run: train ## start the assistant: Telegram if TELEGRAM_BOT_TOKEN is set, else a terminal chat
	$(PY) -m tools.run

test: train services ## run every test (validation, unit, actions, conversations, NLU, PostgreSQL/Redis)
	$(PY) -m pytest

eval: train ## NLU accuracy per language and style, confidently wrong, baseline side by side
	PYTHONWARNINGS=ignore $(PY) -m tools.evaluate

validate: setup ## rasa data validate --fail-on-warnings (known false positives: tests/test_validate.py)
	$(PY) -m rasa data validate --data data/nlu data/rules data/stories --domain domain.yml --config config.yml --fail-on-warnings

check: train ## content check: intents x languages (with held-out accuracy), translations, figures
	$(PY) -m tools.evaluate --json reports/eval.json > /dev/null
	$(PY) -m bot content-check --accuracy reports/eval.json

bench: train ## model load and per-message timings
	$(PY) -m tools.bench

bench-load: train ## open-loop load through the real gateway and a Bot API stand-in, vs Rasa alone
	PYTHONWARNINGS=ignore $(PY) -m tools.bench_load

bench-scale: train services ## 120 people x 4 over 2 Rasa servers on PostgreSQL + Redis, with faults; then make run itself (webhook)
	PYTHONWARNINGS=ignore $(PY) -m tools.bench_scale
	PYTHONWARNINGS=ignore $(PY) -m tools.bench_run

services: ## install PostgreSQL and Redis from the system's packages when missing (root)
	@bash scripts/install-services || echo "PostgreSQL/Redis missing: their tests will be skipped"

lint: setup ## ruff and mypy
	$(PY) -m ruff check bot actions extensions connectors tools tests
	$(PY) -m mypy bot actions extensions connectors tools

clean: ## remove trained models, caches and local data (keeps .venv)
	rm -rf models .rasa .pytest_cache .mypy_cache .ruff_cache reports var
