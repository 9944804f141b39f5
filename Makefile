# make demo   — the main job end to end on this machine (CPU, tiny stand-in model)
# make test   — the whole test suite
# make setup  — create/update .venv from the committed lock (uv)
# make bench  — the speed and memory benchmarks against their baselines (minutes; not part of test)
VENV := .venv
PY := $(VENV)/bin/python
# an activated venv (even .venv itself, which has no pip) must not be the python that runs uv
SYSTEM_PATH := $(if $(VIRTUAL_ENV),$(subst $(VIRTUAL_ENV)/bin:,,$(PATH)),$(PATH))
SYSTEM := env -u VIRTUAL_ENV PATH="$(SYSTEM_PATH)"
UV := $(SYSTEM) python3 -m uv

.PHONY: setup demo test bench dataset-info clean

setup: $(VENV)/.synced

$(VENV)/.synced: pyproject.toml uv.lock
	@$(UV) --version >/dev/null 2>&1 || $(SYSTEM) python3 -m pip install --quiet uv
	@echo "uv sync --frozen --python 3.11 --compile-bytecode"
	@# bytecode written once here (a minute): with PYTHONDONTWRITEBYTECODE set, as on CI, every `lfd` or
	@# `llamafactory-cli` process would otherwise compile transformers from source again (10 s -> 24 s each)
	@$(UV) sync --frozen --python 3.11 --compile-bytecode
	@touch $@

demo: setup
	$(VENV)/bin/lfd demo

# pytest exits 5 when it collected no tests: that is a failure here, not a pass
test: setup
	@$(PY) -m pytest; status=$$?; \
	if [ $$status -eq 5 ]; then echo "make test: pytest collected no tests" >&2; exit 1; fi; exit $$status

# every benchmark runs even when an earlier one misses a target (it prints NOT MET and exits 1); the
# status is 1 when any missed
bench: setup
	@status=0; for bench in convert eval retrieval kb judge stats clean; do \
	  $(PY) benchmarks/$${bench}_bench.py || status=1; done; exit $$status

# the repo's dataset_info.json is generated from converter metadata, never edited by hand
dataset-info: setup
	$(VENV)/bin/lfd dataset-info --out dataset_info.json

clean:
	rm -rf build saves reports data/*.jsonl data/dataset_info.json
