# Maintenance of the template itself. `make` lists the targets.
.DEFAULT_GOAL := help
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PROJECT := {{cookiecutter.project_slug}}
export UV_CACHE_DIR ?= $(CURDIR)/.cache/uv
PYTEST_ARGS ?=
# The full tier's tests mostly wait on installs, lock resolution, image builds and servers: two
# processes overlap that waiting (each test module whole on one, so its fixtures are built once).
FULL_WORKERS ?= 2
LOCK = $(BIN)/uv pip compile --quiet --universal --python-version 3.10 --generate-hashes

.PHONY: help
help: ## Show this help
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  \033[36m%-16s\033[0m %s\n", $$1, $$2}' $(MAKEFILE_LIST)

$(BIN)/pytest: requirements-test.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet --require-hashes -r requirements-test.txt
	@touch $@

.PHONY: venv
venv: $(BIN)/pytest ## Create .venv with the template's pinned test requirements

.PHONY: test
test: venv ## Run the whole suite: fast tier, then the full tier (installs and runs generated projects)
	$(BIN)/pytest -m "not full" -n 2 --durations=0 $(PYTEST_ARGS)
	$(BIN)/pytest -m full -n $(FULL_WORKERS) --dist loadfile --durations=0 $(PYTEST_ARGS)

.PHONY: test-fast
test-fast: venv ## Run only the fast tier (bake and inspect, no installs)
	$(BIN)/pytest -m "not full" -n 2 --durations=0 $(PYTEST_ARGS)

.PHONY: lint
lint: venv ## Lint the template's own Python (hooks, tests, benchmarks); type-check the hooks and test helpers
	$(BIN)/ruff check hooks tests benchmarks
	$(BIN)/ruff format --check hooks tests benchmarks
	$(BIN)/mypy

.PHONY: bake
bake: venv ## Generate the default project into ./build/ (for a look around)
	rm -rf build && $(BIN)/cookiecutter --no-input --output-dir build .

.PHONY: lock
lock: venv ## Re-pin the template's test requirements (requirements-test.txt)
	$(LOCK) --custom-compile-command "make lock" requirements-test.in -o requirements-test.txt

.PHONY: lock-project
lock-project: venv ## Re-lock the generated project's requirements*.txt from its pyproject.toml, then `make import-names`
	@# The project's pyproject.toml is a template: bake the default project, run its own
	@# `make pin-dependencies` on copies of the shipped locks (every bucket remote's too), and bring the
	@# locks back with the project's name (in their "# via" notes) turned into the template variable.
	rm -rf build/lock && $(BIN)/cookiecutter --no-input --output-dir build/lock .
	cp "$(PROJECT)"/requirements*.txt build/lock/*/
	PATH="$(CURDIR)/$(BIN):$$PATH" $(MAKE) --no-print-directory -C build/lock/* pin-dependencies UV=uv
	cd build/lock/* && slug="$$(basename "$$PWD")" && for lock in requirements*.txt; do \
		sed "s/ $$slug (pyproject\.toml/ {{ cookiecutter.project_slug }} (pyproject.toml/" "$$lock" \
			> "$(CURDIR)/$(PROJECT)/$$lock"; done
	rm -rf build/lock
	$(MAKE) import-names

.PHONY: import-names
import-names: venv ## Refresh hooks/import_names.json (import names of the locked packages) from the project's locks
	$(BIN)/python hooks/refresh_import_names.py

.PHONY: clean
clean: ## Remove the venv, caches and baked projects
	rm -rf $(VENV) .cache build .pytest_cache .ruff_cache .mypy_cache
