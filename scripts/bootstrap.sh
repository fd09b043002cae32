#!/bin/sh
# Create the project's virtual environment and install the pinned
# dependencies. Needs only python3 (3.11+); on Debian, python3-venv is
# installed when missing and we are root (otherwise we say how).
set -eu
VENV="${VENV:-.venv}"
PY="${PYTHON:-python3}"
"$PY" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' || {
    echo "Python 3.11 or newer is needed (found $("$PY" --version 2>&1))." >&2; exit 1; }
if [ ! -x "$VENV/bin/python" ]; then
    if ! "$PY" -m venv "$VENV" 2>/dev/null; then
        rm -rf "$VENV"
        if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
            apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv
            "$PY" -m venv "$VENV"
        else
            echo "python3 cannot create a virtual environment: run 'sudo apt-get install python3-venv' and retry." >&2
            exit 1
        fi
    fi
fi
"$VENV/bin/python" -m pip install -q --upgrade pip
"$VENV/bin/python" -m pip install -q -e ".[test,bench]"
