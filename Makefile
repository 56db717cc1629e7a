# Thoughts: `make run` starts the system natively, `make test` runs every test.
# Each target installs what it needs; a second run skips what is already there.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
LOCAL_PACKAGES := common users_backend thoughts_backend frontend
KEYS := var/keys/private.pem
# The PostgreSQL the tests start (thoughts_common.testing.throwaway_postgres): the compose image's major version.
POSTGRES_MAJOR := $(shell sed -n 's/^POSTGRES_VERSION=//p' .env)
POSTGRES_BIN := /usr/lib/postgresql/$(POSTGRES_MAJOR)/bin

export JWT_PRIVATE_KEY_FILE ?= $(CURDIR)/var/keys/private.pem
export JWT_PUBLIC_KEY_FILE ?= $(CURDIR)/var/keys/public.pem

# Containers: tests/containers runs the compose system and the pods' settings on
# any Docker-compatible engine that answers (DOCKER_HOST, or the default socket).
# An engine whose builds cannot pull images or need a proxy's CA trusted inside
# RUN steps can name its own image builder in BUILD_IMAGES (tools/compose-build).

CHECKOV_VENV := .venv-checkov
CHECKOV_VERSION := 3.3.30
SECRETS_VENV := .venv-secrets
DETECT_SECRETS_VERSION := 1.5.0
AUDIT_VENV := .venv-audit
PIP_AUDIT_VERSION := 2.10.1
SCHEMATHESIS_VENV := .venv-schemathesis
SCHEMATHESIS_VERSION := 4.32.5
TRAFFIC_VENV := .venv-traffic
TRAFFIC_HOST ?= http://127.0.0.1:8000
TRAFFIC_USERS_COUNT ?= 5
TRAFFIC_TIME ?= 60s

.PHONY: help install run bench prepare observability compose-secrets kube-secrets images test test-suites test-packages lint format user lock clean traffic secrets secrets-baseline audit flux-schemas

help:
	@echo "make run                    start the system in the foreground (Ctrl-C stops it)"
	@echo "make test                   run every test (installs what it needs)"
	@echo "make user NAME=.. PASSWORD=.. [ADMIN=1]   create a user in the native database"
	@echo "make traffic [TRAFFIC_TIME=60s TRAFFIC_USERS_COUNT=5]   Locust against the running system"
	@echo "make bench [BENCH_ROWS=10000 BENCH_DB=sqlite|postgresql BENCH_DURATION=10 BENCH_CONNECTIONS=16 BENCH_PROFILE=1]"
	@echo "                            wrk against every endpoint under the real uWSGI settings: one table (bench/)"
	@echo "make images [OFFLINE=1]     build every image of the compose system, test stages included"
	@echo "make compose-secrets        the secrets docker compose mounts (var/compose-secrets)"
	@echo "make kube-secrets NAMESPACE=thoughts-dev   create the Secrets in a cluster"
	@echo "make lint                   ruff and the secret scan (detect-secrets against .secrets.baseline)"
	@echo "make secrets-baseline       accept the secret scan's current findings (review them first)"
	@echo "make audit                  known vulnerabilities of the pinned dependencies (needs PyPI's JSON API and npm's audit service)"
	@echo "make lock                   re-pin requirements/lock.txt after changing dependencies"
	@echo "make flux-schemas           regenerate tests/kubernetes/flux-schemas from the CRDs of flux/versions.env (needs Go and its module proxy)"

install: $(STAMP)

$(STAMP): requirements/lock.txt $(foreach p,$(LOCAL_PACKAGES),$(p)/pyproject.toml)
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
		{ echo "Python 3.11 or newer is needed as $(PYTHON)"; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements/lock.txt
	$(BIN)/pip install --quiet --no-deps $(foreach p,$(LOCAL_PACKAGES),-e ./$(p))
	touch $@

# Debian packages the tests drive for real (the browser test needs Chromium,
# the database tests PostgreSQL 15's server programs).
test-packages:
	@tools/ensure-system-packages /usr/bin/chromium=chromium rsyslogd=rsyslog promtool=prometheus \
		amtool=prometheus-alertmanager docker-compose=docker-compose wrk=wrk \
		$(POSTGRES_BIN)/initdb=postgresql-$(POSTGRES_MAJOR)

$(KEYS): | $(STAMP)
	$(BIN)/python -m thoughts_common.tokens var/keys

prepare: $(STAMP) $(KEYS)
	mkdir -p var/run var/log
	$(BIN)/users-backend migrate
	$(BIN)/users-backend seed-demo
	$(BIN)/thoughts-backend migrate
	$(BIN)/thoughts-backend seed-demo
	$(BIN)/thoughts-frontend secret-key var/keys/django-secret-key

# rsyslog, Prometheus and Alertmanager from Debian's packages when we can
# install them (root); frontail from npm. What cannot be had is named, and the
# rest runs.
observability:
	@tools/ensure-system-packages --warn rsyslogd=rsyslog prometheus=prometheus \
		prometheus-alertmanager=prometheus-alertmanager
	@if command -v npm >/dev/null; then $(MAKE) --no-print-directory logs/node_modules/.package-lock.json; \
		else echo "npm is missing: the log viewer (frontail) will not start"; fi

logs/node_modules/.package-lock.json: logs/package-lock.json
	npm ci --prefix logs --no-audit --no-fund --silent

run: prepare observability
	tools/native-run

# The services on free ports with a generated dataset, measured with Debian's wrk (bench/run.py);
# BENCH_DB=postgresql loads it into a throwaway PostgreSQL server (or TEST_POSTGRES_URL's).
bench: $(STAMP)
	@tools/ensure-system-packages wrk=wrk $(if $(filter postgresql POSTGRESQL,$(BENCH_DB)),$(POSTGRES_BIN)/initdb=postgresql-$(POSTGRES_MAJOR))
	$(BIN)/python -m bench.run

# Every suite against one throwaway PostgreSQL server, stopped and deleted at the
# end, also on failure or Ctrl-C (TEST_POSTGRES_URL set: that server instead).
test: $(STAMP) test-packages logs/node_modules/.package-lock.json $(CHECKOV_VENV)/bin/checkov \
		$(SECRETS_VENV)/bin/detect-secrets $(SCHEMATHESIS_VENV)/bin/st
	@$(BIN)/python -m thoughts_common.testing.throwaway_postgres -- $(MAKE) --no-print-directory test-suites

# Each package's tests run from its own folder, as they do inside its image.
test-suites:
	@for package in $(LOCAL_PACKAGES); do \
		echo "== $$package"; \
		(cd $$package && ../$(BIN)/pytest $(PYTEST_ARGS)) || exit 1; \
	done
	@echo "== tests (across services, infrastructure)"
	$(BIN)/pytest $(PYTEST_ARGS)

lint: $(STAMP) secrets
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# detect-secrets over the files git tracks: a finding not in .secrets.baseline fails.
$(SECRETS_VENV)/bin/detect-secrets:
	test -x $(SECRETS_VENV)/bin/python || $(PYTHON) -m venv $(SECRETS_VENV)
	$(SECRETS_VENV)/bin/pip install --quiet detect-secrets==$(DETECT_SECRETS_VERSION)

secrets: $(SECRETS_VENV)/bin/detect-secrets
	$(SECRETS_VENV)/bin/python tools/secret-scan

secrets-baseline: $(SECRETS_VENV)/bin/detect-secrets
	git ls-files -z | grep -zv '^\.secrets\.baseline$$' | xargs -0 $(SECRETS_VENV)/bin/detect-secrets scan > .secrets.baseline

# Known vulnerabilities of the pinned dependencies. pip-audit asks PyPI's JSON
# API and npm audit the registry's advisory service: both need the internet
# (see README, "Supply chain"). --strict fails when a package could not be checked.
$(AUDIT_VENV)/bin/pip-audit:
	test -x $(AUDIT_VENV)/bin/python || $(PYTHON) -m venv $(AUDIT_VENV)
	$(AUDIT_VENV)/bin/pip install --quiet pip-audit==$(PIP_AUDIT_VERSION)

audit: $(AUDIT_VENV)/bin/pip-audit
	$(AUDIT_VENV)/bin/pip-audit --strict --no-deps --disable-pip -r requirements/lock.txt
	$(AUDIT_VENV)/bin/pip-audit --strict --no-deps --disable-pip -r traffic/requirements.lock.txt
	cd logs && npm audit --package-lock-only --audit-level=low

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

user: export NEW_USER_PASSWORD = $(PASSWORD)
user: $(STAMP)
	@test -n "$(NAME)" || { echo "usage: make user NAME=<name> PASSWORD=<password> [ADMIN=1]"; exit 2; }
	@$(BIN)/users-backend migrate >/dev/null
	@$(BIN)/users-backend create-user '$(NAME)' $(if $(filter 1 yes true,$(ADMIN)),--admin)

lock: $(STAMP)
	$(BIN)/pip-compile --quiet --strip-extras --no-emit-index-url --no-emit-find-links \
		-o requirements/lock.txt requirements/dev.in
	$(BIN)/python requirements/strip-local.py requirements/lock.txt

# The JSON Schemas tests/kubernetes/test_flux.py validates the Flux objects against,
# from the CRDs of the Flux release in flux/versions.env (Go and the Go module proxy;
# make test only reads the committed files).
flux-schemas: $(STAMP)
	$(BIN)/python tools/flux_schemas.py

compose-secrets: $(STAMP)
	@tools/compose-secrets

# The Secrets the Kubernetes manifests name, created in a cluster (kubectl context).
kube-secrets: $(STAMP)
	@test -n "$(NAMESPACE)" || { echo "usage: make kube-secrets NAMESPACE=thoughts-<env>"; exit 2; }
	tools/kube-secrets $(NAMESPACE)

# The security scanner of the manifests and Dockerfiles, in its own virtualenv.
$(CHECKOV_VENV)/bin/checkov:
	test -x $(CHECKOV_VENV)/bin/python || $(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/pip install --quiet checkov==$(CHECKOV_VERSION)

# The API fuzzer tests/test_api_schemas.py runs against both backends, in its own
# virtualenv: it pins its own pytest, hypothesis and werkzeug.
$(SCHEMATHESIS_VENV)/bin/st:
	test -x $(SCHEMATHESIS_VENV)/bin/python || $(PYTHON) -m venv $(SCHEMATHESIS_VENV)
	$(SCHEMATHESIS_VENV)/bin/pip install --quiet schemathesis==$(SCHEMATHESIS_VERSION)

# Every image of docker-compose.yaml, test stages included (they run the
# tests inside the images); OFFLINE=1 adds the third-party stand-ins of
# docker-compose.offline.yaml. Built layers are reused.
images:
	tools/compose-build $(if $(filter 1 yes true,$(OFFLINE)),--offline)

# Locust has its own virtualenv: it pins its own pytest and friends.
$(TRAFFIC_VENV)/.installed: traffic/requirements.lock.txt
	test -x $(TRAFFIC_VENV)/bin/python || $(PYTHON) -m venv $(TRAFFIC_VENV)
	$(TRAFFIC_VENV)/bin/pip install --quiet -r traffic/requirements.lock.txt
	touch $@

traffic: $(TRAFFIC_VENV)/.installed
	$(TRAFFIC_VENV)/bin/locust -f traffic/locustfile.py --headless --only-summary \
		-u $(TRAFFIC_USERS_COUNT) -r $(TRAFFIC_USERS_COUNT) -t $(TRAFFIC_TIME) --host $(TRAFFIC_HOST)

clean:
	rm -rf $(VENV) $(TRAFFIC_VENV) $(CHECKOV_VENV) $(SECRETS_VENV) $(AUDIT_VENV) $(SCHEMATHESIS_VENV) var/run
