#!/usr/bin/env bash
# jobdeck against its Python peers (make bench-peers). Builds the benchmark-only virtualenvs
# under bench/peers/ (never the project's .venv), installs the peers pinned by the constraints
# files and jobdeck from this checkout, makes sure Redis is up, then runs the harness.
# Arguments go to the harness: --quick, --only a,b, --workloads drain,latency, ... (--help).
#
#   .venv      Python 3.11: jobdeck, Celery, RQ, Dramatiq, Huey, Procrastinate, pgqueuer, saq,
#              matplotlib                                     (constraints.txt)
#   .venv-arq  Python 3.11: arq, which needs redis < 6 where Celery's kombu needs >= 6.4
#                                                             (constraints-arq.txt)
#   .venv-312  Python >= 3.12: Oban for Python                (constraints-oban.txt)
#              when no such interpreter is found, .venv-312.skip says why and oban is skipped
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
cd "$ROOT"
PIP_FLAGS=(--quiet --disable-pip-version-check)

log() { echo "bench-peers: $*" >&2; }

# venv DIR PYTHON CONSTRAINTS PACKAGE...: create DIR with PYTHON and install the packages,
# pinned; skipped when the stamp says these constraints are already installed there.
venv() {
  local dir="$HERE/$1" python="$2" constraints="$HERE/$3"
  shift 3
  local want
  want="$(cat "$constraints" "$HERE/run.sh" | sha256sum | cut -c1-16) $*"
  if [ -f "$dir/.stamp" ] && [ "$(cat "$dir/.stamp")" = "$want" ]; then
    return 0
  fi
  log "building $dir ($("$python" -V 2>&1))"
  rm -rf "$dir"
  "$python" -m venv "$dir"
  "$dir/bin/python" -m pip install "${PIP_FLAGS[@]}" -c "$constraints" "$@"
  echo "$want" > "$dir/.stamp"
}

PY311="${PEERS_PYTHON:-python3}"
if ! "$PY311" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
  echo "bench-peers: $PY311 is not Python >= 3.11; set PEERS_PYTHON" >&2
  exit 2
fi

venv .venv "$PY311" constraints.txt \
  "celery[redis]" rq "dramatiq[redis]" huey procrastinate pgqueuer "saq[redis]" \
  redis hiredis asyncpg "psycopg[binary]" psycopg-pool typer matplotlib \
  -e "$ROOT"
venv .venv-arq "$PY311" constraints-arq.txt arq hiredis

# Oban for Python needs 3.12 or newer: PEERS_PYTHON312, python3.12/3.13 on PATH, or pyenv's.
find_py312() {
  local candidate
  for candidate in "${PEERS_PYTHON312:-}" python3.12 python3.13 \
    "$(pyenv root 2>/dev/null)"/versions/3.1[2-9]*/bin/python \
    /root/.pyenv/versions/3.1[2-9]*/bin/python; do
    [ -n "$candidate" ] || continue
    if "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null; then
      echo "$candidate"
      return 0
    fi
  done
  return 1
}
rm -f "$HERE/.venv-312.skip"
if PY312="$(find_py312)"; then
  if ! venv .venv-312 "$PY312" constraints-oban.txt oban "psycopg[binary]"; then
    echo "installing oban under $PY312 failed (see the pip output above)" > "$HERE/.venv-312.skip"
  fi
else
  echo "no Python >= 3.12 found (set PEERS_PYTHON312): Oban for Python needs it" \
    > "$HERE/.venv-312.skip"
fi
[ -f "$HERE/.venv-312.skip" ] && log "oban will be skipped: $(cat "$HERE/.venv-312.skip")"

# Redis for the Redis peers: start it the way these machines do when it is installed but down.
if ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
  if command -v redis-server >/dev/null; then
    log "starting redis-server on 127.0.0.1:6379"
    mkdir -p /var/lib/redis /var/log/redis
    redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" \
      --appendonly no --dir /var/lib/redis --logfile /var/log/redis/ci.log
    for _ in $(seq 1 20); do
      redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1 && break
      sleep 0.25
    done
  else
    log "redis-server is not installed: the Redis peers will be skipped"
  fi
fi

exec "$HERE/.venv/bin/python" -m bench.peers.harness "$@"
