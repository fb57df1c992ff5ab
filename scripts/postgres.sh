#!/usr/bin/env bash
# A local PostgreSQL for the storage tests (Debian's postgresql package), listening on 127.0.0.1 only.
#   scripts/postgres.sh start   # installs it if missing, starts it, prints the URL the tests use
#   scripts/postgres.sh stop
# .ci/run calls both; the tests read the URL from HOUFU_TEST_POSTGRES_URL and fail without it.
set -euo pipefail
as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }
as_postgres() { if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else sudo -u postgres "$@"; fi; }
version() { pg_lsclusters -h 2>/dev/null | awk 'NR==1 {print $1}'; }

case "${1:-start}" in
  start)
    if ! command -v pg_lsclusters >/dev/null; then
      as_root apt-get update -qq >&2
      DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq --no-install-recommends postgresql >&2
    fi
    ver=$(version)
    if [ -z "$ver" ]; then
      ver=$(ls /usr/lib/postgresql | sort -n | tail -1)
      as_root pg_createcluster "$ver" main >&2
    fi
    pg_lsclusters -h | awk '{print $4}' | grep -q online || as_root pg_ctlcluster "$ver" main start >&2
    as_postgres psql -qc "DO \$\$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'houfu') THEN
                           CREATE ROLE houfu LOGIN CREATEDB PASSWORD 'houfu'; END IF; END \$\$" >&2
    as_postgres psql -qtc "SELECT 1 FROM pg_database WHERE datname = 'houfu_test'" | grep -q 1 \
      || as_postgres createdb -O houfu houfu_test >&2
    echo "postgresql://houfu:houfu@127.0.0.1:5432/houfu_test"
    ;;
  stop)
    ver=$(version)
    [ -n "$ver" ] && as_root pg_ctlcluster "$ver" main stop >&2 || true
    ;;
  *) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
