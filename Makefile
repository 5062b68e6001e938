# Two commands on a fresh machine: `make demo` and `make test` (see README.md).
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip --disable-pip-version-check
# Services the integration tests start themselves (tests/services/).
APT_PACKAGES := mariadb-server mariadb-client openssh-server openssh-client iputils-ping traceroute iproute2 nftables libfuse2 \
	nfs-ganesha nfs-ganesha-vfs rpcbind nfs-common chromium qemu-utils e2fsprogs fdisk openssl \
	nagios4-core prometheus prometheus-node-exporter tmux postgresql systemd procps snmp

.PHONY: demo test lint typecheck unit integration system-deps demo-bundle docs bench clean

$(VENV)/bin/activate:
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip

$(VENV)/.installed: $(VENV)/bin/activate pyproject.toml
	$(PIP) install --quiet -e .
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed
	$(PIP) install --quiet -e '.[test]'
	touch $@

## make demo: install, then triage the bundled demo evidence and write JSON, CSV and HTML to out/demo
## (and its API-sourced part to out/demo-api)
demo: $(VENV)/.installed
	@rc=0; $(VENV)/bin/csdiag triage --bundle examples/demo-bundle --output out/demo || rc=$$?; \
	  if [ $$rc -gt 3 ]; then exit $$rc; fi; \
	  echo "demo: triage exit code $$rc (0 ok, 1 warn, 2 crit, 3 unknown); report: out/demo/report.html"
	@rc=0; $(VENV)/bin/csdiag --quiet triage --bundle examples/demo-bundle-api --output out/demo-api || rc=$$?; \
	  if [ $$rc -gt 3 ]; then exit $$rc; fi; \
	  echo "demo (the same site through CloudStack's API, --source api): exit code $$rc; report: out/demo-api/report.html"

## make test: system packages (as root), virtualenv, ruff, mypy, the whole pytest suite
test: system-deps $(VENV)/.installed-test lint typecheck
	$(PY) -m pytest

lint: $(VENV)/.installed-test
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: $(VENV)/.installed-test
	$(VENV)/bin/mypy

unit: $(VENV)/.installed-test
	$(PY) -m pytest -m unit

integration: system-deps $(VENV)/.installed-test
	$(PY) -m pytest -m integration

system-deps:
	@missing=$$(for p in $(APT_PACKAGES); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q '^install ok installed' || echo $$p; done); \
	if [ -z "$$missing" ]; then exit 0; fi; \
	if [ "$$(id -u)" = 0 ]; then \
	  echo "installing $$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	else \
	  echo "not root: cannot install $$missing; integration tests that need them will skip (and fail under CI=true)"; \
	fi

## make demo-bundle: re-record examples/demo-bundle with `csdiag collect` against the test services
demo-bundle: system-deps $(VENV)/.installed-test
	$(PY) -m tests.record_demo examples/demo-bundle

## make docs: the terminal transcripts (tmux, 80 columns), report screenshots (Chromium 1280 and 390 px) and
## docs/examples from the demo bundle; run after make demo-bundle
docs: system-deps $(VENV)/.installed
	$(PY) docs/make_docs.py

bench: $(VENV)/.installed-test
	$(PY) bench/cli_startup.py

clean:
	rm -rf $(VENV) out .pytest_cache .mypy_cache .ruff_cache
