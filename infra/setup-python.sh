#!/usr/bin/env bash
# Create (or reuse) the project's virtualenv in .venv and install Sangrah into it.
# Usage: infra/setup-python.sh [extras]     e.g. infra/setup-python.sh test
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
extras="${1:-}"
python="${PYTHON:-python3}"
if ! "$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
  echo "Sangrah needs Python 3.11 or newer; $("$python" --version 2>&1) was found. Set PYTHON=/path/to/python3.11." >&2
  exit 2
fi
if [ ! -x "$root/.venv/bin/python" ]; then
  echo "creating $root/.venv" >&2
  "$python" -m venv "$root/.venv"
fi
stamp="$root/.venv/.sangrah-installed-${extras:-base}"
# Every install is pinned by the project's constraints file for this Python (Airflow's
# dependencies and ours, frozen after a green test run: docs/deploy.md says how to regenerate it).
pyver="$("$root/.venv/bin/python" -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")')"
constraints="$root/infra/constraints/airflow-3.3.2-py$pyver.txt"
pin=()
if [ -f "$constraints" ]; then
  pin=(-c "$constraints")
else
  echo "no constraints file for Python $pyver ($constraints); installing the newest versions allowed by pyproject.toml" >&2
fi
# reinstall only when pyproject.toml or the constraints changed since the last install
if [ ! -f "$stamp" ] || [ "$root/pyproject.toml" -nt "$stamp" ] || { [ -f "$constraints" ] && [ "$constraints" -nt "$stamp" ]; }; then
  "$root/.venv/bin/python" -m pip install --quiet --upgrade pip
  spec="$root"
  [ -n "$extras" ] && spec="$root[$extras]"
  "$root/.venv/bin/python" -m pip install --quiet "${pin[@]}" -e "$spec"
  touch "$stamp"
fi
