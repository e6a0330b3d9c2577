#!/usr/bin/env bash
# Owns the proof that jobdeck runs on the Pythons it declares beside the one .venv uses (3.11):
# for each of PYTHONS it finds the interpreter, keeps .venv-X.Y installed with the pinned
# dependencies (a stamp file, as the Makefile's, so a second run installs nothing), and runs
# SUBSET (the newest) or SMOKE with `python -m pytest`. `make test` runs it after the whole suite on 3.11.
#   bash scripts/test-pythons.sh              # SUBSET on the newest of PYTHONS, SMOKE on the others
#   bash scripts/test-pythons.sh tests/unit   # other pytest arguments instead of SUBSET
#   PYTHONS=3.13 bash scripts/test-pythons.sh
#   PYTHON_3_13=/opt/py/bin/python3.13 ...    # an interpreter the search below won't find
# A missing interpreter fails the run under CI=true and is a warning otherwise.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHONS=${PYTHONS:-"3.13"}

# What the other versions run, and why. `make test` runs the newest declared Python, 3.13, after
# the whole suite on 3.11: the two ends of what pyproject.toml declares. 3.12 is left to
# `make test-pythons PYTHONS="3.12 3.13"` (SMOKE on it): on this CPU-bound 2-core machine the
# whole of `make test` has to stay under 20 minutes, and 3.12 cost 3.3 minutes of it (its venv
# built from scratch, as on CI's fresh clone, then SMOKE).
# The newest runs SUBSET: the core (tests/unit, and the worker and scheduler of what
# pyproject.toml calls the core: on 3.13 they found a pool left open at exit), the store's
# conformance file on SQLite and PostgreSQL (the db_url fixture in tests/conftest.py), the web
# layer's smoke test (every route, page and API answered for every role: FastAPI, Jinja2 and
# pydantic on this Python) and tests/django. The others run SMOKE: the unit tests, the Django
# backend, the store's conformance file and the web smoke test. Left to the whole-suite run
# on 3.11:
#   - the rest of tests/store: the same SQL through the same drivers on any Python;
#   - the rest of tests/web and tests/cli: they test jobdeck's own pages and commands, which
#     read the same on any Python once the smoke test has rendered every route;
#   - tests marked slow (tests/worker/test_processes.py, test_drain.py, tests/demo): real
#     worker processes killed, paused and drained;
#   - the four-scheduler-process test (40 s; --deselect ignores the id if it is renamed);
#   - tests/documents, the documents contrib;
#   - tests/browser (Chromium drives the pages the web tests already render) and
#     tests/package (it builds and installs wheels).
# tests/django runs only here: Django 6 (django.tasks) needs Python 3.12, so on 3.11 it skips,
# and pyproject.toml's [all] brings the django extra on 3.12 and newer only. One Django
# project on both stores, with two real worker processes: about 5 s a version.
SUBSET=(tests/unit tests/store/test_store.py tests/worker tests/scheduler tests/django
  tests/web/test_authorization.py
  -m "not slow"
  --deselect tests/scheduler/test_scheduler.py::test_four_scheduler_processes_enqueue_each_tick_exactly_once)
SMOKE=(tests/unit tests/django tests/store/test_store.py tests/web/test_authorization.py
  -m "not slow")

# Prints the path of a working Python X.Y, or nothing. pyenv's shim answers to `python3.12`
# even when 3.12 is not selected, and then fails, so each candidate is run, not just found.
find_python() {
  local version=$1 override candidate root
  override="PYTHON_${version//./_}"
  local candidates=("${!override:-}" "python$version")
  for root in "$(pyenv root 2>/dev/null || true)" "${PYENV_ROOT:-}" "$HOME/.pyenv"; do
    [ -n "$root" ] || continue
    # newest patch release first; skip free-threaded builds (3.13.0t)
    while read -r candidate; do candidates+=("$candidate/bin/python$version"); done \
      < <(ls -d "$root/versions/$version".* 2>/dev/null | grep -v 't$' | sort -rV)
  done
  candidates+=("/usr/local/bin/python$version" "/usr/bin/python$version")
  for candidate in "${candidates[@]}"; do
    [ -n "$candidate" ] || continue
    if "$candidate" -c "import sys; sys.exit(f'{sys.version_info[0]}.{sys.version_info[1]}' != '$version')" \
      >/dev/null 2>&1; then
      command -v "$candidate"
      return 0
    fi
  done
  return 1
}

# Creates or updates .venv-X.Y; reinstalls when pyproject.toml or constraints.txt is newer than
# the stamp, or when the venv's interpreter no longer runs (its Python was removed or moved).
ensure_venv() {
  local python=$1 venv=$2 stamp="$2/.installed-stamp"
  if ! "$venv/bin/python" -c '' >/dev/null 2>&1; then
    rm -rf "$venv"
    "$python" -m venv "$venv" || return 1
  fi
  if [ -f "$stamp" ] && [ "$stamp" -nt pyproject.toml ] && [ "$stamp" -nt constraints.txt ]; then
    echo "$venv: up to date"
    return 0
  fi
  echo "$venv: installing jobdeck with the pins in constraints.txt"
  rm -f "$stamp"
  # '.[all]' installs the django extra too here (a python_version marker keeps it off 3.11);
  # '[test]' is what SUBSET and SMOKE import, not the rest of [dev] (browser, S3 server, linters).
  # Byte-compiled at install (not --no-compile): 25 s more here, 20 s less on every test run.
  # -qq: errors only, not the warning about each missing local index this machine's pip.conf names.
  "$venv/bin/python" -m pip install -qq --disable-pip-version-check \
    -c constraints.txt -e '.[all,test]' || return 1
  touch "$stamp"
}

newest=${PYTHONS##* }
failed=()
for version in $PYTHONS; do
  if [ $# -gt 0 ]; then
    args=("$@") what="$*"
  elif [ "$version" = "$newest" ]; then
    args=("${SUBSET[@]}") what="SUBSET of scripts/test-pythons.sh"
  else
    args=("${SMOKE[@]}") what="SMOKE of scripts/test-pythons.sh"
  fi
  echo
  echo "==================== Python $version: $what ===================="
  python=$(find_python "$version") || true
  if [ -z "$python" ]; then
    message="Python $version not found (tried python$version on PATH, \$(pyenv root)/versions/$version.*, ~/.pyenv, /usr/local/bin, /usr/bin; or set PYTHON_${version//./_})"
    if [ "${CI:-}" = "true" ]; then
      echo "ERROR: $message" >&2
      failed+=("$version (not found)")
    else
      echo "WARNING: $message; skipping it" >&2
    fi
    continue
  fi
  echo "interpreter: $python ($("$python" -V 2>&1))"
  start=$SECONDS
  if ! ensure_venv "$python" ".venv-$version"; then
    failed+=("$version (install)")
    continue
  fi
  echo "set-up: $((SECONDS - start))s"
  start=$SECONDS
  status=0
  # Both lists are marked "not slow", so they share the whole suite's parallel run (Makefile).
  ".venv-$version/bin/python" -m pytest -n "${TEST_WORKERS:-2}" --dist loadfile "${args[@]}" \
    || status=$?
  echo "Python $version: pytest exit $status in $((SECONDS - start))s"
  [ "$status" -eq 0 ] || failed+=("$version (pytest exit $status)")
done

if [ ${#failed[@]} -gt 0 ]; then
  echo "FAILED on Python: ${failed[*]}" >&2
  exit 1
fi
