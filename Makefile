# houfu: `make demo` sets everything up and runs the bundled examples; `make test` runs lint and tests.
PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
HOUFU  := $(BIN)/houfu
STAMP  := $(VENV)/.installed

.PHONY: install demo test test-slow test-new-documents lint bench clean links

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	# houfu's own modules compiled once, as a wheel's install compiles them (where PYTHONDONTWRITEBYTECODE is set,
	# an editable install would otherwise compile them again in every new process: 0.1 s of a cold check).
	$(BIN)/python -m compileall -q houfu
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP) links
	mkdir -p out
	$(HOUFU) kb validate
	$(HOUFU) kb stats
	$(HOUFU) check examples/dingnan-household.yaml
	$(HOUFU) check examples/shiyan-household.yaml
	$(HOUFU) check examples/dingnan-town-household.yaml
	$(HOUFU) site examples/dingnan-site.yaml
	$(HOUFU) site examples/shiyan-site.yaml
	$(HOUFU) site examples/shiyan-small-site.yaml
	$(HOUFU) explain examples/dingnan-household.yaml dn.4.3.incubation_subsidy
	@echo "--- a batch with one bad record (reported, the rest still checked; exit code 2 expected)"
	-$(HOUFU) check examples/batch-households.yaml
	$(HOUFU) owners 技能培训
	$(HOUFU) duties 人社局
	$(HOUFU) graph render out/graph.svg
	$(HOUFU) graph render out/hrss.png --department 县人社局
	$(HOUFU) brief household examples/dingnan-household.yaml -o out/brief-household-zh.md
	$(HOUFU) brief household examples/shiyan-household.yaml --lang en --format html -o out/brief-household-en.html
	$(HOUFU) brief household examples/dingnan-elderly-couple.yaml --format html -o out/letter-elderly-couple-zh.html
	$(HOUFU) brief household examples/dingnan-school-family.yaml --format txt
	$(HOUFU) brief site examples/dingnan-site.yaml -o out/brief-site-zh.md
	$(HOUFU) brief department 县人社局 --format html -o out/brief-department-zh.html
	$(HOUFU) brief compare --topic training --lang en -o out/brief-compare-en.md
	@echo "--- a caseload export (XLSX, Chinese headers, a few bad rows: reported, the rest screened; exit code 2 expected)"
	-$(HOUFU) screen examples/caseload.xlsx --report out/report.html -o out/determinations.parquet --requests out/requests
	-$(HOUFU) screen examples/caseload-gbk/households.csv --members examples/caseload-gbk/members.csv --report out/report.md -o out/determinations.csv
	@echo "--- a new document drafted from its scraped page (docs/ingest.md); the draft lists what is left to do"
	$(HOUFU) kb scaffold examples/ingest/xinfeng-2024/scraped.txt --id xinfeng-2024 --jurisdiction ganzhou --prefix xf -o out/drafts --force
	@echo "--- the service: start it, one check through the API, stop it"
	$(BIN)/python scripts/demo_service.py
	@echo "demo outputs written to out/"

# A clone made without symlinks (Git for Windows' default) installs (pip install .), but the tests and the demo
# read policies/ and templates/ through the links: say so in one line rather than fail later.
links:
	@test -d policies -a -d templates -a -d kb -a -d engine || { echo "kb/, engine/, policies/ and templates/ are links into houfu/ and this clone wrote them as files: clone again with 'git clone -c core.symlinks=true' (on Windows, with Developer Mode on)"; exit 2; }

lint: $(STAMP) links
	$(BIN)/ruff check houfu tests benchmarks conftest.py
	$(BIN)/mypy
	for f in policies/*/calculators.py; do $(BIN)/mypy --strict "$$f" || exit 1; done
	$(BIN)/lint-imports
	$(BIN)/cog --check --diff --check-fail-msg "run: cog -r docs/cli.md README.md" docs/cli.md README.md

# The tests need PostgreSQL and Chromium: the script installs what is missing (apt-get), starts a throwaway
# PostgreSQL on 127.0.0.1 and stops it at the end, and the run ends by saying which tests used them.
test: lint
	scripts/with-test-servers.sh $(BIN)/python -m pytest -q -n auto --dist loadfile --no-loadscope-reorder -p no:cacheprovider -m "not slow"

# Slow mode: the differential tests with 100,000 generated records per kind, the generated-program tests
# scaled to match, and the three-way run with the column evaluator (about an hour on 2 cores); then every test
# marked `slow` (the long browser walks and attack storms that `make test` leaves out to stay under 15 minutes).
test-slow: $(STAMP)
	HOUFU_DIFF_EXAMPLES=100000 $(BIN)/python -m pytest -q -n auto --dist loadfile tests/test_differential.py tests/test_vector.py
	scripts/with-test-servers.sh $(BIN)/python -m pytest -q -n auto --dist loadfile -p no:cacheprovider -m slow

# Slow mode: the whole suite against a copy of the policy folder with two more documents, data only and written for
# houfu (examples/ingest's Xinfeng plan, examples/workshop's Anyuan workshop measures): a new document keeps the
# suite green (issue 26). tests/test_new_documents.py checks the copy's own parts on every `make test`.
test-new-documents: $(STAMP)
	rm -rf out/new-documents
	$(BIN)/python -m tests.new_documents out/new-documents/policies
	HOUFU_POLICIES=$(CURDIR)/out/new-documents/policies scripts/with-test-servers.sh $(BIN)/python -m pytest -q -n auto --dist loadfile -p no:cacheprovider -m "not slow"

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_households.py
	$(BIN)/python benchmarks/bench_check.py
	$(BIN)/python benchmarks/bench_explanations.py
	$(BIN)/python benchmarks/bench_service.py
	$(BIN)/python benchmarks/bench_screen.py 10000,100000,1000000 3
	$(BIN)/python benchmarks/bench_floors.py 1000000 3

clean:
	rm -rf $(VENV) build dist *.egg-info out .pytest_cache .hypothesis
