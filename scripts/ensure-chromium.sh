#!/usr/bin/env bash
# Make Debian's chromium available for the browser tests. Playwright cannot download its own browser here.
set -u
if [ -x /usr/bin/chromium ]; then exit 0; fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "Installing Debian's chromium for the browser tests..."
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk) >/dev/null 2>&1 \
    || echo "Could not install chromium; browser tests will skip (and fail in CI)."
else
  echo "chromium is not installed (apt-get install chromium); browser tests will skip (and fail in CI)."
fi
exit 0
