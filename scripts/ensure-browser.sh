#!/usr/bin/env bash
# Browser tests drive Debian's Chromium; install it when it is missing (CI runs as root).
set -u
if [ -x /usr/bin/chromium ]; then exit 0; fi
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
  echo "Chromium is missing and cannot be installed here: browser tests will fail (install the 'chromium' package)"
  exit 0
fi
echo "installing Chromium for the browser tests"
export DEBIAN_FRONTEND=noninteractive
apt-get install -y -q chromium >/dev/null 2>&1 || { apt-get update -q >/dev/null && apt-get install -y -q chromium >/dev/null; }
/usr/bin/chromium --version 2>/dev/null || echo "Chromium install failed"
