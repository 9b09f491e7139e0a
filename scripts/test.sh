#!/usr/bin/env bash
# The test command: virtualenv, real services, then the whole suite against PostgreSQL.
# Extra arguments go to pytest (e.g. scripts/test.sh tests/test_models.py -x).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh
scripts/services.sh
export DATABASE_URL="${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/rectify}"
export REDIS_URL_FOR_TESTS="${REDIS_URL_FOR_TESTS:-redis://127.0.0.1:6379/15}"
exec .venv/bin/pytest "$@"
