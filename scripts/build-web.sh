#!/usr/bin/env bash
# Builds the browser pages (web/) into src/centralita/webui/dist, never committed: npm packages from
# web/package-lock.json, the typed API client from the server's OpenAPI document, a type check, then Vite.
# Fast when nothing changed: the sources' hash is kept beside the build; a Python change that leaves the
# OpenAPI document as it was costs one look at the document.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
web="$root/web"
dist="$root/src/centralita/webui/dist"
py="$root/.venv/bin/python"

if ! command -v npm >/dev/null 2>&1; then
  sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "centralita: installing Node.js and npm (Debian packages)" >&2
  $sudo apt-get update -qq && $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >/dev/null
fi

hash_of() { (cd "$root" && find "$@" -type f -print0 | sort -z | xargs -0 sha256sum | sha256sum | cut -c1-16); }
web_hash=$(hash_of web -path web/node_modules -prune -o -path web/build -prune -o -path web/src/api/schema.d.ts -prune -o)
py_hash=$(hash_of src/centralita -name '*.py')
stamp="$dist/.built"
want="$web_hash $py_hash"
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
  exit 0
fi

cd "$web"
lock_hash=$(sha256sum package-lock.json | cut -c1-16)
if [ ! -f node_modules/.centralita-lock ] || [ "$(cat node_modules/.centralita-lock)" != "$lock_hash" ]; then
  echo "centralita: installing npm packages from web/package-lock.json" >&2
  npm ci --no-audit --no-fund --loglevel=error >/dev/null
  echo "$lock_hash" > node_modules/.centralita-lock
fi

mkdir -p build
"$py" -m centralita.webui.openapi_dump build/openapi.json.new
api_hash=$(sha256sum build/openapi.json.new | cut -c1-16)
old_built=$(cut -d' ' -f1 "$stamp" 2>/dev/null || true)
if [ -f "$stamp" ] && [ "$old_built" = "$web_hash" ] && [ -f build/openapi.json ] \
   && [ "$(sha256sum build/openapi.json | cut -c1-16)" = "$api_hash" ]; then
  rm build/openapi.json.new
  echo "$want" > "$stamp"
  exit 0
fi
mv build/openapi.json.new build/openapi.json
echo "centralita: building the web pages (web/ → src/centralita/webui/dist)" >&2
npx --no-install openapi-typescript build/openapi.json --default-non-nullable false -o src/api/schema.d.ts >/dev/null 2>&1
npx --no-install tsc --noEmit
npx --no-install vite build --logLevel warn
npx --no-install vite build --config vite.widget.config.ts --logLevel warn
echo "$want" > "$stamp"
