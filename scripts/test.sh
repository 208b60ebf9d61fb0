#!/usr/bin/env bash
# Run the whole suite against real PostgreSQL, Redis, LibreOffice, Chromium and nginx.
# Starts PostgreSQL and Redis when they are installed but not answering; fails when a
# required service or the browser is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

export FORMSERVICE_TEST_POSTGRES_URL="${FORMSERVICE_TEST_POSTGRES_URL:-postgresql+psycopg://postgres@127.0.0.1:5432/postgres}"
export FORMSERVICE_TEST_REDIS_URL="${FORMSERVICE_TEST_REDIS_URL:-redis://127.0.0.1:6379/15}"
export FORMSERVICE_TEST_CHROMIUM="${FORMSERVICE_TEST_CHROMIUM:-/usr/bin/chromium}"
export FORMSERVICE_TEST_NGINX="${FORMSERVICE_TEST_NGINX:-/usr/sbin/nginx}"

if ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
  echo "Redis svarar inte; startar redis-server."
  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no \
    --dir /tmp --logfile /tmp/formservice-redis.log || true
  sleep 1
fi
if ! pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then
  echo "PostgreSQL svarar inte; försöker starta klustret."
  if command -v pg_ctlcluster >/dev/null 2>&1 && ls /etc/postgresql >/dev/null 2>&1; then
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start || true
    sleep 2
  fi
fi

fail=0
redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1 || { echo "FEL: Redis saknas på 127.0.0.1:6379" >&2; fail=1; }
pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null || { echo "FEL: PostgreSQL saknas på 127.0.0.1:5432" >&2; fail=1; }
[ -x "$FORMSERVICE_TEST_CHROMIUM" ] || { echo "FEL: Chromium saknas ($FORMSERVICE_TEST_CHROMIUM)" >&2; fail=1; }
command -v soffice >/dev/null 2>&1 || { echo "FEL: LibreOffice (soffice) saknas" >&2; fail=1; }
[ -x "$FORMSERVICE_TEST_NGINX" ] || { echo "FEL: nginx saknas ($FORMSERVICE_TEST_NGINX)" >&2; fail=1; }
command -v openssl >/dev/null 2>&1 || { echo "FEL: openssl saknas" >&2; fail=1; }
command -v systemd-analyze >/dev/null 2>&1 || { echo "FEL: systemd-analyze saknas (Debian-paketet systemd)" >&2; fail=1; }
for tool in pg_dump pg_restore; do
  command -v "$tool" >/dev/null 2>&1 || { echo "FEL: $tool saknas (Debian-paketet postgresql-client)" >&2; fail=1; }
done
command -v node >/dev/null 2>&1 || { echo "FEL: Node.js saknas (Debian-paketet nodejs; testernas OpenID-leverantör)" >&2; fail=1; }
command -v npm >/dev/null 2>&1 || { echo "FEL: npm saknas (Debian-paketet npm)" >&2; fail=1; }
[ -d tests/oidc/node_modules/oidc-provider ] || { echo "FEL: tests/oidc saknar oidc-provider (kör scripts/bootstrap.sh)" >&2; fail=1; }
[ "$fail" = 0 ] || exit 1

.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/mypy  # [tool.mypy] in pyproject.toml: formservice/, forms/, worker/
# The suite starts hundreds of Python processes (the CLI, gunicorn, workers, the demo): let the
# first write the bytecode the others read, also where the machine sets PYTHONDONTWRITEBYTECODE
# (uv installs none; compiling every module at every start costs seconds of CPU each).
unset PYTHONDONTWRITEBYTECODE

# Two workers, a file each at a time (a file's live stack starts once); each worker has Redis
# databases of its own (tests/support/redis.per_worker).
exec .venv/bin/pytest -p no:cacheprovider -n "${FORMSERVICE_TEST_WORKERS:-2}" --dist loadfile "$@"
