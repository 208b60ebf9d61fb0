#!/usr/bin/env bash
# Install what formservice needs on a fresh Debian machine: Debian packages (when root)
# and a virtual environment in .venv with the project and its test tools.
set -euo pipefail
cd "$(dirname "$0")/.."

DEBIAN_PACKAGES=(libmagic1 libreoffice-writer-nogui chromium fonts-dejavu-core fonts-liberation
                 poppler-utils redis-server nginx openssl systemd postgresql-client)

missing=()
for pkg in "${DEBIAN_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    echo "Installerar Debian-paket: ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    echo "Saknade Debian-paket (kör som root eller installera själv): ${missing[*]}" >&2
  fi
fi

# Node.js and npm run the test suite's OpenID provider (tests/oidc, oidc-provider).
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ]; then
    echo "Installerar Debian-paket: nodejs npm"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends nodejs npm >/dev/null
  else
    echo "Saknade Debian-paket (kör som root eller installera själv): nodejs npm" >&2
  fi
fi
if command -v npm >/dev/null 2>&1; then
  if [ ! -d tests/oidc/node_modules ] || [ tests/oidc/package-lock.json -nt tests/oidc/node_modules ]; then
    npm ci --prefix tests/oidc --no-audit --no-fund --loglevel=error
    touch tests/oidc/node_modules
  fi
fi

if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
fi
stamp=.venv/.installed
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  .venv/bin/pip install -q --disable-pip-version-check --upgrade pip
  .venv/bin/pip install -q --disable-pip-version-check -e ".[test]"
  touch "$stamp"
fi
