# supplygraph: `make demo` and `make test` work on a fresh machine with Python >= 3.11.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
DB ?= ./supplygraph-data

.PHONY: install demo test lint serve bench clean neo4j-start neo4j-stop

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	@# the editable install maps supplygraph.graph to graph/ (and so on) with an import hook; setuptools
	@# warns about that hook on every install, which says nothing to someone who only wants the demo
	PYTHONWARNINGS='ignore:Editable installation:UserWarning' $(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)  ## build the demo graph in the embedded store and show the exposure answers
	$(BIN)/supplygraph demo --db $(DB)

test: $(STAMP)  ## the whole suite (Neo4j tests run when NEO4J_URI is set or scripts/neo4j-server runs)
	$(BIN)/python -m pytest -q

lint: $(STAMP)  ## ruff, the import directions (import-linter) and mypy
	$(BIN)/ruff check .
	$(BIN)/lint-imports
	@mkdir -p build/typecheck/supplygraph
	@for d in graph loaders queries api; do ln -sfn ../../../$$d build/typecheck/supplygraph/$$d; done
	$(BIN)/mypy

serve: $(STAMP)
	$(BIN)/supplygraph serve --db $(DB)

bench: $(STAMP)  ## load and exposure figures at 10k and 100k factories (takes a few minutes)
	$(BIN)/python benchmarks/bench_embedded.py

clean:
	rm -rf $(VENV) $(DB) .pytest_cache .mypy_cache .ruff_cache .hypothesis
