#!/usr/bin/env bash
# Fetches the dashboard's two JavaScript libraries (pinned in package-lock.json) and copies
# the built files into the package, so a wheel carries them and users need no Node.
set -euo pipefail
cd "$(dirname "$0")/.."
vendor=src/jobdeck/web/static/vendor
if [ -f "$vendor/.built-from" ] && cmp -s package-lock.json "$vendor/.built-from"; then
  exit 0
fi
npm ci --no-audit --no-fund --loglevel=error
mkdir -p "$vendor"
cp node_modules/htmx.org/dist/htmx.min.js "$vendor/htmx.min.js"
cp node_modules/uplot/dist/uPlot.iife.min.js "$vendor/uPlot.iife.min.js"
cp node_modules/uplot/dist/uPlot.min.css "$vendor/uPlot.min.css"
cp package-lock.json "$vendor/.built-from"
echo "static: vendor files built into $vendor"
