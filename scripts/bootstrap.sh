#!/usr/bin/env bash
# Install what formservice needs on a fresh Debian machine: Debian packages (when root) and a
# virtual environment in .venv with the project.
#
#   scripts/bootstrap.sh        what `make test` needs (the default): every Debian package of the
#                               suite, the project with its test tools, npm ci in tests/oidc
#   scripts/bootstrap.sh demo   what `make demo` needs: LibreOffice, libmagic and fonts, and the
#                               project alone (no test tools, no Node.js)
#
# Python packages are installed with uv (from PyPI, into the virtual environment), several
# times faster than pip; pip is the fallback when uv cannot be installed (issue 16: the demo
# starts in ≤ 60 s from a fresh virtual environment, docs/performance.md "Demo start").
set -euo pipefail
cd "$(dirname "$0")/.."

target="${1:-test}"
case "$target" in
  demo | test) ;;
  *) echo "Användning: $0 [demo|test]" >&2; exit 2 ;;
esac

# The demo: the service itself (python-magic, the digest's PDF through LibreOffice and its
# fonts) and the virtual environment (python3-venv for ensurepip, python3-pip to bring in uv).
DEMO_PACKAGES=(libmagic1 libreoffice-writer-nogui fonts-dejavu-core fonts-liberation
               python3-venv python3-pip)
# The suite besides: the browser, PDF text, Redis and PostgreSQL's client tools, nginx, openssl,
# systemd-analyze.
TEST_PACKAGES=(chromium poppler-utils redis-server nginx openssl systemd postgresql-client)

install_debian() {
  local missing=() pkg
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" \
      || missing+=("$pkg")
  done
  [ ${#missing[@]} -gt 0 ] || return 0
  if [ "$(id -u)" = 0 ]; then
    echo "Installerar Debian-paket: ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" \
      >/dev/null
  else
    echo "Saknade Debian-paket (kör som root eller installera själv): ${missing[*]}" >&2
  fi
}

# FORMSERVICE_BOOTSTRAP_TIMES=1: each step's seconds on standard error (bench/bench_demo.py).
timed() {
  local label="$1" start
  shift
  start="$(date +%s%N)"
  "$@"
  if [ -n "${FORMSERVICE_BOOTSTRAP_TIMES:-}" ]; then
    echo "bootstrap-step $label $(( ($(date +%s%N) - start) / 1000000 )) ms" >&2
  fi
}

debian_packages() {
  local packages=("${DEMO_PACKAGES[@]}")
  [ "$target" = demo ] || packages+=("${TEST_PACKAGES[@]}")
  install_debian "${packages[@]}"
}

npm_packages() {
  # Node.js and npm run the test suite's OpenID provider (tests/oidc, oidc-provider); a node
  # installed otherwise than from Debian is fine too.
  if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
    install_debian nodejs npm
  fi
  if command -v npm >/dev/null 2>&1; then
    if [ ! -d tests/oidc/node_modules ] || [ tests/oidc/package-lock.json -nt tests/oidc/node_modules ]; then
      npm ci --prefix tests/oidc --no-audit --no-fund --loglevel=error
      touch tests/oidc/node_modules
    fi
  fi
}

# Without pip: ensurepip is most of the time `python3 -m venv` takes (seconds), and uv
# needs no pip in the environment.
make_venv() {
  [ -x .venv/bin/python ] || python3 -m venv --without-pip .venv
}

ensure_pip() {
  .venv/bin/python -m pip --version >/dev/null 2>&1 || .venv/bin/python -m ensurepip -q
}
pip_quiet=(-q --disable-pip-version-check)

# uv from PyPI into the environment: by the environment's pip (an environment of earlier
# versions), the system's pip (`--python`, pip ≥ 22.3), or ensurepip's.
install_uv() {
  [ ! -x .venv/bin/uv ] || return 0
  if .venv/bin/python -m pip --version >/dev/null 2>&1; then
    .venv/bin/python -m pip install "${pip_quiet[@]}" uv || true
  elif python3 -m pip --version >/dev/null 2>&1; then
    python3 -m pip --python .venv/bin/python install "${pip_quiet[@]}" uv || true
  fi
  if [ ! -x .venv/bin/uv ] && ensure_pip; then
    .venv/bin/python -m pip install "${pip_quiet[@]}" uv || true
  fi
}

# The project: `-e .` for the demo, `-e .[test]` for the suite.
install_project() {
  local extras=""
  [ "$target" = demo ] || extras="[test]"
  if [ -x .venv/bin/uv ]; then
    .venv/bin/uv pip install -q --python .venv/bin/python -e ".$extras"
  else
    echo "uv kunde inte installeras; installerar med pip." >&2
    ensure_pip
    .venv/bin/python -m pip install "${pip_quiet[@]}" -e ".$extras"
  fi
}

timed debian debian_packages
[ "$target" = demo ] || timed npm npm_packages

# A stamp per target; the suite's installation serves the demo too (.installed is the stamp
# of earlier versions).
stamp=".venv/.installed-$target"
current() { [ -f "$1" ] && [ ! pyproject.toml -nt "$1" ]; }
if current "$stamp" || current .venv/.installed-test || current .venv/.installed; then
  exit 0
fi
timed venv make_venv
timed uv install_uv
timed project install_project
touch "$stamp"
