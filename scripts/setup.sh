#!/usr/bin/env bash
# Set up what the dashboard needs on a fresh Debian machine: `setup.sh run` for running, `setup.sh test` for testing.
# Idempotent: a second call installs nothing that is already there.
set -euo pipefail
cd "$(dirname "$0")/.."
what=${1:-run}
PYTHON=${PYTHON:-python3}

apt_install() {  # Debian packages, only those missing
  local missing=()
  for pkg in "$@"; do dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  echo "setup: installing Debian packages: ${missing[*]}"
  local sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

pip_install() {  # into .venv, again only when a requirements file changed since the last install
  [ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
  local stamp=".venv/.installed-$1"; shift
  local newer=0
  for f in "$@"; do [ "$stamp" -nt "$f" ] || newer=1; done
  [ $newer -eq 0 ] && return 0
  echo "setup: installing Python packages from $*"
  .venv/bin/python -m pip install -q --disable-pip-version-check --upgrade pip
  local args=(); for f in "$@"; do args+=(-r "$f"); done
  .venv/bin/python -m pip install -q --disable-pip-version-check "${args[@]}"
  touch "$stamp"
}

npm_ci() {  # a package-lock.json's packages into its folder's node_modules, again only when the lock changed
  local dir=$1
  [ "$dir/node_modules/.package-lock.json" -nt "$dir/package-lock.json" ] && return 0
  command -v npm >/dev/null 2>&1 || apt_install nodejs npm
  echo "setup: installing npm packages in $dir"
  (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
}

case "$what" in
  run)
    pip_install run requirements.txt ;;
  test)
    # chromium for the browser tests and chart export, CJK fonts so Chinese renders in screenshots and exports,
    # poppler-utils to turn exported PDFs into text and pictures in the tests; postgresql and redis-server for the
    # second pass of .ci/run (the store and cache tests on PostgreSQL with a shared Redis) and tests/test_backends.py.
    apt_install chromium chromium-driver fonts-noto-cjk poppler-utils postgresql redis-server nginx
    pip_install test requirements.txt requirements-test.txt
    # axe-core, which tests/test_a11y.py injects into the pages to check them against WCAG 2.1 AA
    npm_ci tests/a11y ;;
  *) echo "usage: $0 run|test" >&2; exit 2 ;;
esac
