# pointsmall: `make run` serves the demo on SQLite, `make test` runs the whole suite.
PYTHON ?= python3.11
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000
export PYTHONDONTWRITEBYTECODE := 1


.PHONY: js-clients persisted-documents stripe-demo sms-demo run test lint typecheck unit test-sqlite test-postgres migrate seed schema bench bench-smoke fuzz soak clean chromium

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV) || python3 -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP)

# The JavaScript clients the tests run against the server (the GraphQL over HTTP audit,
# Apollo Client's persisted queries): tests/js's pinned lock, installed with npm ci. Node.js
# and npm are Debian packages: installed when missing (the machines run as root).
JS := tests/js
JS_STAMP := $(JS)/node_modules/.installed
$(JS_STAMP): $(JS)/package.json $(JS)/package-lock.json
	@command -v npm >/dev/null 2>&1 || apt-get install -y -q nodejs npm >/dev/null 2>&1 \
		|| { apt-get update -q >/dev/null 2>&1 && apt-get install -y -q nodejs npm >/dev/null; }
	cd $(JS) && npm ci --no-audit --no-fund --loglevel=error
	@touch $(JS_STAMP)

js-clients: $(JS_STAMP)

# The trusted documents' manifest from every client operation file (tests/clients/*.graphql).
persisted-documents: $(STAMP)
	$(BIN)/pointsmall persisted-documents

# The service and its worker (alerts, expiry, the outbox's SMS, top-ups through the local
# charging system it starts unless CHARGING_URL names a real one). Messages go to `make
# sms-demo`'s SMS centre when it is running (start it first), else to the worker's log; the
# app's inbox shows them either way. No quiet hours unless QUIET_HOURS is set: a newcomer
# trying the demo at night sees the confirmation of a redemption at once.
DEMO_SMSC := smpp://pointsmall:demo@127.0.0.1:2775?source=10658888
CHARGING_PORT ?= 8790
run: $(STAMP)
	$(BIN)/pointsmall migrate
	$(BIN)/pointsmall seed-demo --if-empty
	@export STRIPE_API_BASE=$${STRIPE_API_BASE:-http://127.0.0.1:12111}; \
	if [ -z "$${SMSC_URL:-}" ] && $(BIN)/python -c "import socket, sys; \
	  sys.exit(socket.socket().connect_ex(('127.0.0.1', 2775)))" 2>/dev/null; then \
	  export SMSC_URL='$(DEMO_SMSC)'; echo "SMS: the demo SMS centre at 127.0.0.1:2775"; \
	else echo "SMS: $${SMSC_URL:-none configured: messages go to the worker's log}"; fi; \
	export QUIET_HOURS=$${QUIET_HOURS:-00:00-00:00}; \
	echo "Quiet hours: $$QUIET_HOURS (the demo sends at any hour; QUIET_HOURS=22:00-08:00 holds optional messages at night)"; \
	charging=; if [ -z "$${CHARGING_URL:-}" ]; then \
	  $(BIN)/python -m tests.fakes.charging --port $(CHARGING_PORT) --secret dev-charging-secret \
	    --callback-url http://$(HOST):$(PORT)/webhooks/charging & charging=$$!; \
	  export CHARGING_URL=http://127.0.0.1:$(CHARGING_PORT); \
	  echo "Top-ups: the local charging system at $$CHARGING_URL (switches: POST $$CHARGING_URL/_admin/switches)"; \
	else echo "Top-ups: $$CHARGING_URL"; fi; \
	$(BIN)/pointsmall worker & worker=$$!; \
	trap 'kill $$worker $$charging 2>/dev/null' EXIT INT TERM; \
	$(BIN)/pointsmall serve --host $(HOST) --port $(PORT) --banner

# The local Stripe test server for trying points-plus-cash by hand (beside `make run`).
stripe-demo: $(STAMP)
	$(BIN)/python -m tests.fakes.stripe_demo --webhook-url http://$(HOST):$(PORT)/webhooks/stripe

# The local SMS centre (SMPP on 127.0.0.1:2775): shows the service's texts as a handset would,
# and texts the service whatever is typed.
sms-demo: $(STAMP)
	$(BIN)/python -m tests.fakes.sms_demo

migrate: $(STAMP)
	$(BIN)/pointsmall migrate

schema: $(STAMP)
	$(BIN)/pointsmall export-schema > schema.graphql

lint: $(STAMP)
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .

typecheck: $(STAMP)
	$(BIN)/mypy api schema models fulfilment benchmarks

# The browser tests drive Debian's Chromium (Playwright's own browser download is not used),
# with a CJK font so that Chinese renders in their screenshots: both are installed when
# missing (the machines run as root); without them the browser tests say so, and fail in CI.
CHROMIUM_PACKAGES := chromium fonts-wqy-zenhei
chromium:
	@{ command -v chromium >/dev/null 2>&1 && dpkg -s fonts-wqy-zenhei >/dev/null 2>&1; } \
	|| DEBIAN_FRONTEND=noninteractive apt-get install -y -q $(CHROMIUM_PACKAGES) >/dev/null 2>&1 \
	|| { apt-get update -q >/dev/null 2>&1 \
	  && DEBIAN_FRONTEND=noninteractive apt-get install -y -q $(CHROMIUM_PACKAGES) >/dev/null 2>&1; } \
	|| echo "chromium is not installed and could not be installed"

test-sqlite: $(STAMP) chromium $(JS_STAMP)
	$(BIN)/pytest -q

test-postgres: $(STAMP) chromium $(JS_STAMP)
	$(BIN)/python -m tests.support.postgres_available || { \
	  if [ "$${CI:-}" = "true" ]; then echo "PostgreSQL is required in CI but not reachable"; exit 1; \
	  else echo "PostgreSQL not reachable: skipping the PostgreSQL run"; exit 0; fi; }
	TEST_DATABASE=postgres $(BIN)/pytest -q tests/integration tests/e2e tests/resilience tests/security \
	  tests/browser

test: lint typecheck test-sqlite test-postgres

# wrk is a Debian package: install it when missing (the machines run as root); without it
# the rows that need a load generator say so instead of measuring.
WRK := command -v wrk >/dev/null 2>&1 || apt-get install -y -q wrk >/dev/null 2>&1 \
	|| { apt-get update -q >/dev/null 2>&1 && apt-get install -y -q wrk >/dev/null 2>&1; } \
	|| echo "wrk is not installed and could not be installed"

bench: $(STAMP)
	@$(WRK)
	$(BIN)/python -m benchmarks.run

bench-smoke: $(STAMP)
	@$(WRK)
	$(BIN)/python -m benchmarks.run --smoke

# The long fuzz (`make test` runs the same test seeded and short): FUZZ_EXAMPLES generated
# operations for each of the 88 (root field, role) pairs, on PostgreSQL and on SQLite.
# Another FUZZ_SEED explores other operations.
FUZZ_EXAMPLES ?= 150
FUZZ_SEED ?= 20261124
FUZZ := FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) FUZZ_SEED=$(FUZZ_SEED) $(BIN)/pytest -q --timeout=0 \
	tests/security/test_graphql_fuzz.py

fuzz: $(STAMP)
	@if $(BIN)/python -m tests.support.postgres_available; then TEST_DATABASE=postgres $(FUZZ); \
	elif [ "$${CI:-}" = "true" ]; then echo "PostgreSQL is required in CI but not reachable"; exit 1; \
	else echo "PostgreSQL not reachable: fuzzing SQLite only"; fi
	$(FUZZ)

# Ten minutes of mixed traffic against a real API and worker (PostgreSQL when reachable,
# SQLite otherwise), then the invariants; `make test` runs 30 seconds of it (SOAK_SECONDS).
soak: $(STAMP)
	$(BIN)/python -m tests.resilience.soak --seconds $${SOAK_SECONDS:-600}

clean:
	rm -rf $(VENV) $(JS)/node_modules data .mypy_cache .ruff_cache .pytest_cache .hypothesis
