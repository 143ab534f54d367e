#!/usr/bin/env bash
# Runs every check and the whole test suite. Installs what is missing first: Python packages into
# .venv, and the services the tests use for real (PostgreSQL at 127.0.0.1:5432, Redis at 127.0.0.1:6379).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
"$root/scripts/bootstrap.sh"
"$root/scripts/services.sh"
py=.venv/bin
echo "== ruff"; $py/ruff check src tests bench scripts
echo "== mypy"; $py/mypy
echo "== import boundaries"; $py/lint-imports
echo "== pytest"
exec $py/pytest -n 2 --dist loadfile -p no:cacheprovider "$@"
