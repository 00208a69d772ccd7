# Developer and CI entry points. Every target works from a fresh clone: `setup` installs the locked
# Python environment and builds the servers into the cache ($SEAM_CACHE, default
# ~/.cache/seam-jetstream); both steps are no-ops when already done.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
UV_VERSION ?= 0.13.9
# uv from PATH, else the uv module installed from PyPI by `sync`.
UV ?= $(shell command -v uv 2>/dev/null || echo python3 -m uv)
PYTEST ?= $(UV) run --frozen pytest
PYTEST_ARGS ?=

.DEFAULT_GOAL := help
.PHONY: help sync provision setup test test-unit test-integration test-e2e lint resilience dev-up dev-down dev-status demo

help: ## list the targets
	@grep -E '^[a-z0-9-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-18s %s\n", $$1, $$2}'

sync: ## install the locked Python dependencies into .venv (uv)
	@$(UV) --version >/dev/null 2>&1 || python3 -m pip install --quiet "uv==$(UV_VERSION)" \
	  || python3 -m pip install --quiet --break-system-packages "uv==$(UV_VERSION)"
	$(UV) sync --all-extras --frozen

provision: ## build kube-apiserver, kube-controller-manager, etcd, toxiproxy into the cache (once)
	scripts/provision.sh all

setup: sync provision

test: setup ## all tiers: unit, integration (real nats-server), e2e (real control plane + NATS)
	$(PYTEST) $(PYTEST_ARGS)

test-unit: sync ## pure logic, no server
	$(PYTEST) -m unit $(PYTEST_ARGS)

test-integration: setup ## against a real nats-server (and toxiproxy)
	$(PYTEST) -m integration $(PYTEST_ARGS)

test-e2e: setup ## against the real control plane and NATS
	$(PYTEST) -m e2e $(PYTEST_ARGS)

lint: sync ## ruff (lint + format check) and mypy
	$(UV) run --frozen ruff check .
	$(UV) run --frozen ruff format --check .
	$(UV) run --frozen mypy

resilience: setup ## resilience scenario matrix against real nats-server + Toxiproxy -> docs/resilience_report.md (~2 min)
	$(UV) run --frozen python -m benchmarks.resilience --out docs/resilience_report.md

dev-up: setup ## local stack in the background: NATS JetStream + control plane (prints KUBECONFIG and SEAM_NATS_SERVER_URLS)
	$(UV) run --frozen seam-stack up

dev-down: ## stop the local stack and clean up
	$(UV) run --frozen seam-stack down

dev-status: ## health of the local stack
	$(UV) run --frozen seam-stack status

demo: dev-up ## local stack, then scripts/demo.sh (operator + example resources) when present
	@eval "$$($(UV) run --frozen seam-stack status | grep '^export ')"; \
	if [ -x scripts/demo.sh ]; then \
	  scripts/demo.sh; \
	else \
	  $(UV) run --frozen seam-stack status; \
	  echo "(scripts/demo.sh not present yet: the stack is up, nothing else to show)"; \
	fi
