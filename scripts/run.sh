#!/usr/bin/env bash
# The run command: from a fresh clone to a working app on embedded defaults (SQLite, filesystem
# Celery broker, emails written to var/mail/). Loads demo data, prints the demo accounts, then
# runs the web server and a Celery worker with beat until Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh
export DEBUG="${DEBUG:-true}"
HOST="${HOST:-127.0.0.1}"
PORT="${PORT:-8000}"
export SITE_URL="${SITE_URL:-http://$HOST:$PORT}"  # links in emails and the printed admin URL
mkdir -p var
PY=.venv/bin/python
$PY manage.py migrate --noinput
$PY manage.py load_demo
echo "==> starting the Celery worker with beat (log: var/celery.log)"
.venv/bin/celery -A rectify worker --beat --loglevel INFO --concurrency 1 \
  --schedule var/celerybeat-schedule >var/celery.log 2>&1 &
worker=$!
trap 'kill $worker 2>/dev/null || true' EXIT INT TERM
echo "==> rectify is at http://$HOST:$PORT/ (admin: http://$HOST:$PORT/admin/)"
$PY manage.py runserver "$HOST:$PORT"
