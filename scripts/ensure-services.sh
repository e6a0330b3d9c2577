#!/usr/bin/env bash
# Starts what the test suite needs when it is installed but stopped: PostgreSQL (for the
# PostgreSQL half of the store tests). Never restarts a running server.
set -u
pg_up() { pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; }
if command -v pg_isready >/dev/null && ! pg_up; then
  if command -v pg_ctlcluster >/dev/null && [ -d /etc/postgresql ]; then
    for version in $(ls /etc/postgresql); do
      echo "starting PostgreSQL $version"
      pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
    done
    for _ in $(seq 1 30); do pg_up && break; sleep 0.5; done
  fi
fi
if pg_up 2>/dev/null; then echo "PostgreSQL: up on 127.0.0.1:5432"; else echo "PostgreSQL: NOT available (its tests will skip, or fail under CI=true)"; fi
