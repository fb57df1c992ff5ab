#!/usr/bin/env bash
# Run a command (the test suite) with the real servers the tests need, on a machine that may never have run
# houfu before.  `make test` calls it; .ci/run calls `make test`.
#
#   scripts/with-test-servers.sh .venv/bin/python -m pytest ...
#
# 1. System parts: PostgreSQL's server binaries, headless Chromium with its driver, and CJK fonts (the letters
#    are printed to PDF).  Missing ones are installed with apt-get when this user may (root, or sudo without a
#    password); otherwise the script says in one line what to install and exits 2.
# 2. A throwaway PostgreSQL cluster in a temporary folder, listening on 127.0.0.1 only, on a free port, with a
#    random password; it is stopped and deleted at the end whatever happens (the EXIT trap).
# 3. The command runs with HOUFU_TEST_POSTGRES_URL set, and HOUFU_REAL_SERVERS naming what it runs against, so
#    the suite's last lines say which tests ran against real servers (tests/conftest.py).
set -euo pipefail

PACKAGES="postgresql chromium chromium-driver fonts-noto-cjk"
say() { echo "with-test-servers: $*" >&2; }

pg_bindir() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1; }
# grep reads all of fc-list's output (grep -q would stop early, and pipefail would count the broken pipe).
have_fonts() { fc-list : family 2>/dev/null | grep -i "Noto Sans CJK" >/dev/null; }
missing_parts() {
  local m=()
  [ -n "$(pg_bindir)" ] && [ -x "$(pg_bindir)/initdb" ] || m+=("PostgreSQL")
  command -v chromium >/dev/null || m+=("chromium")
  command -v chromedriver >/dev/null || m+=("chromedriver")
  have_fonts || m+=("Noto Sans CJK fonts")
  echo "${m[*]:-}"
}

missing=$(missing_parts)
if [ -n "$missing" ]; then
  if command -v apt-get >/dev/null && { [ "$(id -u)" -eq 0 ] || sudo -n true 2>/dev/null; }; then
    SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo -n"
    say "installing $missing (apt-get install $PACKAGES)"
    $SUDO apt-get update -qq >&2
    # policy-rc.d keeps the package's own cluster from starting: the tests use a throwaway one.
    DEBIAN_FRONTEND=noninteractive RUNLEVEL=1 $SUDO apt-get install -y -qq --no-install-recommends $PACKAGES >/dev/null
    missing=$(missing_parts)
  fi
  if [ -n "$missing" ]; then
    echo "make test needs $missing: on Debian, sudo apt-get install $PACKAGES" >&2
    exit 2
  fi
fi

# --- a throwaway PostgreSQL ------------------------------------------------------------------------------
BIN=$(pg_bindir)
DIR=$(mktemp -d /tmp/houfu-test-pg.XXXXXX)
PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
PASSWORD=$(python3 -c 'import secrets; print(secrets.token_hex(16))')
# PostgreSQL refuses to run as root: as root the cluster belongs to the postgres user.
if [ "$(id -u)" -eq 0 ]; then
  chown postgres "$DIR"
  as_owner() { runuser -u postgres -- "$@"; }
else
  as_owner() { "$@"; }
fi
stop_postgres() {
  as_owner "$BIN/pg_ctl" -D "$DIR/data" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$DIR"
}
trap stop_postgres EXIT
trap 'exit 130' INT TERM

(umask 077; echo "$PASSWORD" > "$DIR/pwfile")
[ "$(id -u)" -eq 0 ] && chown postgres "$DIR/pwfile"
as_owner "$BIN/initdb" -D "$DIR/data" -U houfu --auth=scram-sha-256 --pwfile="$DIR/pwfile" -E UTF8 \
  --no-instructions >"$DIR/initdb.log" 2>&1 || { cat "$DIR/initdb.log" >&2; exit 1; }
# fsync off: the cluster is thrown away at the end, so durability buys nothing here.
as_owner "$BIN/pg_ctl" -D "$DIR/data" -w -t 60 -l "$DIR/server.log" \
  -o "-c listen_addresses=127.0.0.1 -p $PORT -k $DIR -c fsync=off -c full_page_writes=off" start >/dev/null \
  || { cat "$DIR/server.log" >&2; exit 1; }
VERSION=$("$BIN/postgres" --version | awk '{print $3}')

export HOUFU_TEST_POSTGRES_URL="postgresql://houfu:$PASSWORD@127.0.0.1:$PORT/postgres"
CHROMIUM_VERSION=$(chromium --version 2>/dev/null | awk '{print $2}' || true)
export HOUFU_REAL_SERVERS="PostgreSQL=$VERSION on 127.0.0.1:$PORT, a throwaway cluster;Chromium=${CHROMIUM_VERSION:-?} headless"
say "PostgreSQL $VERSION on 127.0.0.1:$PORT in $DIR (removed at the end); Chromium ${CHROMIUM_VERSION:-?}"
"$@"
