# Two commands do all set-up on a fresh machine: `make demo` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
UV := $(VENV)/bin/uv
UV_VERSION := 0.13.9
YEAR := 2023

AIRFLOW_PORT ?= 8080

# Airflow's settings are in $(AIRFLOW_HOME)/airflow.cfg (written by airflow-config below).
export AIRFLOW_HOME := $(CURDIR)/.airflow
export REPORTPIPE_INBOX ?= $(CURDIR)/demo/inbox
export REPORTPIPE_WAREHOUSE ?= $(CURDIR)/warehouse

.PHONY: demo demo-district airflow backfill airflow-config test test-deploy bench lock clean system-packages

# The environment: Python 3.11, every package pinned with hashes in requirements.lock.
$(VENV)/.installed: requirements.lock pyproject.toml
	test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)
	@# Bytecode compiled once here: where PYTHONDONTWRITEBYTECODE is set (CI, containers), every
	@# process would compile GX, pandas and scipy again, 6 of a small month's 11 s.
	$(UV) pip sync --quiet --compile-bytecode --python $(VENV)/bin/python --require-hashes requirements.lock
	$(UV) pip install --quiet --python $(VENV)/bin/python --no-deps -e .
	@# The editable install puts src/ on sys.path: its build left-over egg-info would make
	@# reportpipe a second distribution, and Airflow would load the plugin twice.
	rm -rf src/reportpipe.egg-info
	touch $@

# The key of the personal-data hash: random per machine, never in git.
.env:
	umask 077 && echo "REPORTPIPE_PII_KEY=$$($(PYTHON) -c 'import secrets; print(secrets.token_hex(32))')" > $@

# The project's Airflow settings (src/reportpipe/orchestration/airflow_config.py: our DAGs, no examples,
# Asia/Shanghai, LocalExecutor on SQLite with few processes, the UI on 127.0.0.1) into
# .airflow/airflow.cfg, which every airflow command here reads, one typed by hand too.
airflow-config: $(VENV)/.installed
	@$(VENV)/bin/python -m reportpipe.orchestration.airflow_config $(AIRFLOW_HOME) $(AIRFLOW_PORT) > /dev/null

$(AIRFLOW_HOME)/airflow.db: $(VENV)/.installed | airflow-config
	@mkdir -p $(AIRFLOW_HOME)
	@echo "Creating the Airflow metadata database in $(AIRFLOW_HOME)"
	@$(VENV)/bin/airflow db migrate > $(AIRFLOW_HOME)/migrate.log 2>&1 || (cat $(AIRFLOW_HOME)/migrate.log; exit 1)
	@# Tasks that write an office's warehouse take this pool: a slot per office (src/reportpipe/orchestration/pool.py).
	@$(VENV)/bin/python -m reportpipe.orchestration.pool >> $(AIRFLOW_HOME)/migrate.log 2>&1

demo: $(VENV)/.installed .env airflow-config $(AIRFLOW_HOME)/airflow.db
	@set -a && source .env && set +a && \
	$(VENV)/bin/reportpipe demo-inbox $(REPORTPIPE_INBOX) --year $(YEAR) $(if $(REPORTPIPE_OFFICES),--offices $(REPORTPIPE_OFFICES)) && \
	$(VENV)/bin/python -m reportpipe.orchestration.demo_run $(YEAR) && \
	$(VENV)/bin/reportpipe figures --year $(YEAR) && \
	echo && echo "Warehouse: $(REPORTPIPE_WAREHOUSE)/report.duckdb (analysts)" && \
	echo "Report outputs (workbook, draft, charts): $(REPORTPIPE_WAREHOUSE)/reports/<office_id>/$(YEAR)/" && \
	echo "Inbox: $(REPORTPIPE_INBOX)   Airflow home: $(AIRFLOW_HOME)"

# A district of three offices (transforms/demo_district.yaml), each its own inbox, warehouse folder and
# outputs, the district's figures and comparison: the same year through Airflow, beside the demo's own state.
demo-district:
	$(MAKE) demo AIRFLOW_HOME=$(CURDIR)/.airflow-district REPORTPIPE_OFFICES=$(CURDIR)/transforms/demo_district.yaml \
	    REPORTPIPE_INBOX=$(CURDIR)/demo/district/inbox REPORTPIPE_WAREHOUSE=$(CURDIR)/demo/district/warehouse

# Airflow on this machine: api-server (the UI), scheduler, dag-processor and triggerer with
# the settings above, each in its own session so that Ctrl-C reaches only this shell, which
# stops each once. (`airflow standalone` hangs on Ctrl-C: its components get SIGINT and then
# SIGTERM, and log from the second signal handler while the first one holds the log's lock.)
airflow: $(VENV)/.installed .env airflow-config $(AIRFLOW_HOME)/airflow.db
	@echo "Airflow UI: http://127.0.0.1:$(AIRFLOW_PORT)   (reportpipe's page: Report, in the navigation)"
	@echo "Log in as admin with the password in $(AIRFLOW_HOME)/simple_auth_manager_passwords.json.generated"
	@echo "  (the api-server prints it when it first makes it; another port: make airflow AIRFLOW_PORT=8081)"
	@echo "DAGs: $(CURDIR)/dags   Inbox: $(REPORTPIPE_INBOX)   Warehouse: $(REPORTPIPE_WAREHOUSE)   Ctrl-C stops all"
	@set -a && source .env && set +a && \
	for component in api-server scheduler dag-processor triggerer; do setsid $(VENV)/bin/airflow $$component & done; \
	trap 'echo "Stopping Airflow"; kill -TERM $$(jobs -p) 2>/dev/null; wait; exit 0' INT TERM; wait

# Backfill every source over a range of months through the running scheduler (make airflow), one
# source at a time: make backfill FROM=2023-01 TO=2023-12 (src/reportpipe/orchestration/backfill.py).
backfill: $(VENV)/.installed .env airflow-config $(AIRFLOW_HOME)/airflow.db
	@test -n "$(FROM)" -a -n "$(TO)" || (echo "make backfill FROM=YYYY-MM TO=YYYY-MM"; exit 2)
	@set -a && source .env && set +a && $(VENV)/bin/python -m reportpipe.orchestration.backfill $(FROM) $(TO)

# Debian packages some tests drive: docker-compose (v1) checks docker-compose.yml
# statically and, with dockerd (docker.io) and debootstrap, runs it (test-deploy);
# headless Chromium renders pages, LibreOffice renders the report outputs and
# poppler-utils reads the PDFs back.
# Installed when missing and possible (root with apt-get, as on CI); never fails make:
# without them those tests skip with the reason, or fail when CI=true.
SYSTEM_PACKAGES := docker-compose docker.io debootstrap chromium chromium-driver libreoffice-writer-nogui \
	libreoffice-calc-nogui poppler-utils

system-packages:
	@missing="$$(for p in $(SYSTEM_PACKAGES); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q '^install ok installed' || echo $$p; done)"; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "Installing Debian packages the tests use: $$missing"; \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing >/dev/null) \
	      || echo "warning: could not install $$missing; the tests that need them will skip"; \
	  else \
	    echo "note: missing Debian packages $$missing (apt-get install $$missing); the tests that need them will skip"; \
	  fi; \
	fi

# A test file per worker, one worker per core: files keep their module fixtures to themselves.
test: $(VENV)/.installed system-packages
	$(VENV)/bin/python -m pytest -n auto --dist loadfile

# The deployment run for real (tests/deployment/test_compose_up.py, as root): docker-compose.yml
# on this machine's Docker, on stand-in images built here. `make test` runs it only with CI=true.
test-deploy: $(VENV)/.installed system-packages
	REPORTPIPE_TEST_DEPLOY=1 $(VENV)/bin/python -m pytest tests/deployment/test_compose_up.py

# City-scale timings and peak memory beside their goals (benchmarks/intake.py), then a district of 17
# offices (benchmarks/district.py); BENCHMARKS.md.
# Generated months go to benchmarks/.data and are deleted after; BENCH_ARGS=--quick for smaller sizes.
bench: $(VENV)/.installed
	$(VENV)/bin/python benchmarks/intake.py $(BENCH_ARGS)
	$(VENV)/bin/python benchmarks/district.py $(BENCH_ARGS)

# Re-resolve requirements.in into requirements.lock (after changing a dependency).
lock: $(VENV)/.installed
	$(UV) pip compile --quiet --python-version 3.11 --generate-hashes requirements.in -o requirements.lock

# Everything `make demo` made: Airflow's home, the demo inbox, the warehouse's run-time state.
clean:
	rm -rf $(AIRFLOW_HOME) demo/inbox warehouse/*.duckdb warehouse/*.wal warehouse/.lock warehouse/.scratch \
		warehouse/parquet warehouse/.parquet.* warehouse/reports warehouse/landing warehouse/delivered \
		warehouse/offices warehouse/validations \
		warehouse/data_docs warehouse/gx
