#!/usr/bin/env bash
# System packages the tests use, installed when missing (CI runs as root):
# Debian's Chromium for the browser tests, antiword for legacy .doc extraction.
set -u
missing=()
[ -x /usr/bin/chromium ] || missing+=(chromium)
command -v antiword >/dev/null || missing+=(antiword)
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
  echo "missing system packages (${missing[*]}) and no root to install them: their tests will fail"
  exit 0
fi
echo "installing ${missing[*]} for the tests"
export DEBIAN_FRONTEND=noninteractive
apt-get install -y -q "${missing[@]}" >/dev/null 2>&1 || { apt-get update -q >/dev/null && apt-get install -y -q "${missing[@]}" >/dev/null; }
for package in "${missing[@]}"; do command -v "$package" >/dev/null || echo "could not install $package"; done
