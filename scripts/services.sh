#!/usr/bin/env bash
# Make sure the real services the test suite talks to are up: PostgreSQL, Redis, and Debian's
# chromium for browser tests. Installs or starts what is missing (we are root on these machines).
set -euo pipefail

apt_updated=""
apt_install() {
  if [ -z "$apt_updated" ]; then
    apt-get update -qq >/dev/null
    apt_updated=1
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

if ! pg_isready -h 127.0.0.1 -p 5432 -q 2>/dev/null; then
  echo "==> starting PostgreSQL"
  if ! command -v pg_ctlcluster >/dev/null; then apt_install postgresql; fi
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start
  for _ in $(seq 1 30); do pg_isready -h 127.0.0.1 -p 5432 -q && break; sleep 1; done
fi

# The database named in DATABASE_URL (tests create test_<name> beside it).
db_url="${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/rectify}"
if [[ "$db_url" == postgres* ]]; then
  db_name="${db_url##*/}"; db_name="${db_name%%\?*}"
  if ! psql -h 127.0.0.1 -U postgres -tAc "SELECT 1 FROM pg_database WHERE datname='$db_name'" | grep -q 1; then
    createdb -h 127.0.0.1 -U postgres "$db_name"
  fi
fi

if ! (exec 3<>/dev/tcp/127.0.0.1/6379) 2>/dev/null; then
  echo "==> starting Redis"
  if ! command -v redis-server >/dev/null; then apt_install redis-server; fi
  mkdir -p /var/lib/redis /var/log/redis
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
    --dir /var/lib/redis --logfile /var/log/redis/ci.log
  for _ in $(seq 1 30); do (exec 3<>/dev/tcp/127.0.0.1/6379) 2>/dev/null && break; sleep 1; done
fi

if [ ! -x /usr/bin/chromium ]; then
  echo "==> installing Debian's chromium for browser tests"
  apt_install chromium fonts-noto-cjk
fi
