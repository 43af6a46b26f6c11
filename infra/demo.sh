#!/usr/bin/env bash
# The README's first command: install Sangrah and run the demo on embedded defaults.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
"$root/infra/setup-python.sh"
cd "$root"
exec "$root/.venv/bin/sangrah" demo "$@"
