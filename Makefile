# Two commands do all set-up on a fresh machine: `make demo` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
UV := $(VENV)/bin/uv
UV_VERSION := 0.13.9
YEAR := 2023

export AIRFLOW_HOME := $(CURDIR)/.airflow
export AIRFLOW__CORE__DAGS_FOLDER := $(CURDIR)/dags
export AIRFLOW__CORE__LOAD_EXAMPLES := False
export AIRFLOW__CORE__DEFAULT_TIMEZONE := Asia/Shanghai
export REPORTPIPE_INBOX ?= $(CURDIR)/demo/inbox
export REPORTPIPE_WAREHOUSE ?= $(CURDIR)/warehouse

.PHONY: demo test lock clean system-packages

# The environment: Python 3.11, every package pinned with hashes in requirements.lock.
$(VENV)/.installed: requirements.lock pyproject.toml
	test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)
	$(UV) pip sync --quiet --python $(VENV)/bin/python --require-hashes requirements.lock
	$(UV) pip install --quiet --python $(VENV)/bin/python --no-deps -e .
	touch $@

# The key of the personal-data hash: random per machine, never in git.
.env:
	umask 077 && echo "REPORTPIPE_PII_KEY=$$($(PYTHON) -c 'import secrets; print(secrets.token_hex(32))')" > $@

$(AIRFLOW_HOME)/airflow.db: $(VENV)/.installed
	@mkdir -p $(AIRFLOW_HOME)
	@echo "Creating the Airflow metadata database in $(AIRFLOW_HOME)"
	@$(VENV)/bin/airflow db migrate > $(AIRFLOW_HOME)/migrate.log 2>&1 || (cat $(AIRFLOW_HOME)/migrate.log; exit 1)

demo: $(VENV)/.installed .env $(AIRFLOW_HOME)/airflow.db
	@set -a && source .env && set +a && \
	$(VENV)/bin/reportpipe demo-inbox $(REPORTPIPE_INBOX) --year $(YEAR) && \
	$(VENV)/bin/python -m reportpipe.airflow_run $(YEAR) && \
	$(VENV)/bin/reportpipe figures --year $(YEAR) && \
	echo && echo "Warehouse: $(REPORTPIPE_WAREHOUSE)/report.duckdb (analysts) and work.duckdb (pipeline)" && \
	echo "Report outputs (workbook, draft, charts): $(REPORTPIPE_WAREHOUSE)/reports/$(YEAR)/" && \
	echo "Inbox: $(REPORTPIPE_INBOX)   Airflow home: $(AIRFLOW_HOME)"

# Debian packages some tests drive: docker-compose (v1) checks docker-compose.yml
# statically, headless Chromium renders pages, LibreOffice renders the report outputs.
# Installed when missing and possible (root with apt-get, as on CI); never fails make:
# without them those tests skip with the reason, or fail when CI=true.
SYSTEM_PACKAGES := docker-compose chromium chromium-driver libreoffice-writer-nogui libreoffice-calc-nogui

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

test: $(VENV)/.installed system-packages
	$(VENV)/bin/python -m pytest

# Re-resolve requirements.in into requirements.lock (after changing a dependency).
lock: $(VENV)/.installed
	$(UV) pip compile --quiet --python-version 3.11 --generate-hashes requirements.in -o requirements.lock

clean:
	rm -rf $(AIRFLOW_HOME) demo/inbox warehouse/*.duckdb warehouse/*.wal warehouse/.lock
