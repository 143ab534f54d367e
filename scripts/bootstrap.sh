#!/usr/bin/env bash
# Installs what Centralita needs into ./.venv (idempotent, fast when nothing changed).
# Python packages come from requirements.lock (exact pins with hashes), installed with uv; then the browser
# pages are built (scripts/build-web.sh: npm packages from web/package-lock.json, Vite).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
py=${PYTHON:-python3}
stamp=.venv/.centralita-installed
want=$(cat requirements.lock pyproject.toml | sha256sum | cut -c1-16)
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
  exec "$root/scripts/build-web.sh"  # the browser pages (fast when nothing changed)
fi
uvcmd=""
if command -v uv >/dev/null 2>&1; then
  uvcmd="uv"
elif "$py" -m uv --version >/dev/null 2>&1; then
  uvcmd="$py -m uv"
elif [ -x .venv/bin/uv ]; then
  uvcmd=".venv/bin/uv"
else
  echo "centralita: installing uv (package installer)" >&2
  if "$py" -m pip install --quiet uv 2>/dev/null; then
    uvcmd="$py -m uv"
  else  # a system Python that refuses pip (PEP 668, Debian's): put uv in the project's venv
    [ -x .venv/bin/python ] || "$py" -m venv .venv
    .venv/bin/python -m pip install --quiet uv
    uvcmd=".venv/bin/uv"
  fi
fi
[ -x .venv/bin/python ] || $uvcmd venv --quiet --python "$py" .venv
echo "centralita: installing Python packages from requirements.lock" >&2
VIRTUAL_ENV="$root/.venv" $uvcmd pip sync --quiet --python .venv/bin/python requirements.lock
VIRTUAL_ENV="$root/.venv" $uvcmd pip install --quiet --python .venv/bin/python --no-deps -e .
echo "$want" > "$stamp"
exec "$root/scripts/build-web.sh"
