# stackkit: one entry point for setup, the offline plan, the tests and the checks.
PY := .venv/bin/python
STACK ?= production

.PHONY: help setup plan test test-fast check golden docs bench local-up local-down

help: ## this list
	@grep -E '^[a-z-]+:.*## ' Makefile | sed -E 's/:.*## /\t/' | expand -t 14

setup: ## the venv with pinned dependencies, the Debian packages the tests use, Pulumi's CLI (cached)
	scripts/setup

plan: ## offline plan of a stack under Pulumi's mock runtime (no AWS, no Pulumi CLI)
	SKIP_APT=1 SKIP_ENGINE=1 scripts/setup
	$(PY) -m stackkit plan $(STACK)

test: setup ## the whole suite: unit, daemons' validators, e2e on local Debian machines
	$(PY) -m pytest -q

test-fast: ## everything but the e2e machines
	$(PY) -m pytest -q -m "not e2e"

check: ## lint and types
	$(PY) -m ruff check stackkit tests benchmarks
	$(PY) -m mypy stackkit

golden: ## regenerate the golden files of the rendered layer scripts (tests/golden)
	$(PY) -m stackkit.plan.golden

docs: golden ## regenerate every generated file: docs/layers.md, README's production graph, the golden files
	$(PY) -m stackkit docs

APP ?= plone

local-up: setup ## the staging stack on Debian 12 machines on this host (root), serving a real Plone site (examples/plone; APP=site: a bare Zope project); prints its URL
	$(PY) -m stackkit local up staging --app site=examples/$(APP)

local-down: ## stop and remove the local machines (volumes are kept)
	$(PY) -m stackkit local down staging

bench: ## the benchmarks (results in README.md)
	$(PY) -m benchmarks.fanout
	$(PY) -m benchmarks.growth
