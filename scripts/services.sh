#!/usr/bin/env bash
# Makes sure PostgreSQL (127.0.0.1:5432, trust auth, database `test`) and Redis (127.0.0.1:6379) answer, and
# that the test tools from Debian are there (graphviz, chromium):
# installs them from Debian's packages when missing and starts them when stopped.
set -euo pipefail
sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"  # Debian packages need root
apt_updated=0
need_pkg() {
  if ! dpkg -s "$1" >/dev/null 2>&1; then
    if [ "$apt_updated" = 0 ]; then $sudo apt-get update -qq; apt_updated=1; fi
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
  fi
}
pg_ok() { pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; }
redis_ok() { [ "$(redis-cli -h 127.0.0.1 -p 6379 ping 2>/dev/null)" = "PONG" ]; }

if ! command -v pg_isready >/dev/null 2>&1 || ! pg_ok; then
  need_pkg postgresql
  if ! pg_ok; then
    ver=$(ls /etc/postgresql | sort -n | tail -1)
    conf=/etc/postgresql/$ver/main
    grep -q "centralita-trust" "$conf/pg_hba.conf" 2>/dev/null || {
      $sudo sed -i '1i host all all 127.0.0.1/32 trust # centralita-trust' "$conf/pg_hba.conf"
      $sudo sed -i '1i local all all trust # centralita-trust' "$conf/pg_hba.conf"
    }
    $sudo pg_ctlcluster --skip-systemctl-redirect "$ver" main start || true
    for _ in $(seq 1 30); do pg_ok && break; sleep 1; done
  fi
fi
pg_ok || { echo "PostgreSQL does not answer on 127.0.0.1:5432" >&2; exit 1; }
psql -h 127.0.0.1 -U postgres -tAc "SELECT 1 FROM pg_database WHERE datname='test'" | grep -q 1 \
  || psql -h 127.0.0.1 -U postgres -c "CREATE DATABASE test" >/dev/null

if ! command -v redis-cli >/dev/null 2>&1 || ! redis_ok; then
  need_pkg redis-server
  if ! redis_ok; then
    $sudo mkdir -p /var/lib/redis /var/log/redis
    $sudo redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
      --dir /var/lib/redis --logfile /var/log/redis/ci.log
    for _ in $(seq 1 30); do redis_ok && break; sleep 1; done
  fi
fi
redis_ok || { echo "Redis does not answer on 127.0.0.1:6379" >&2; exit 1; }

# Graphviz's `dot` draws `centralita flow graph`'s SVG (the tests render the bank flow with it)
command -v dot >/dev/null 2>&1 || need_pkg graphviz
command -v dot >/dev/null 2>&1 || { echo "Graphviz's dot is missing (Debian package graphviz)" >&2; exit 1; }

# Debian's chromium: the browser tests drive it with Playwright (never a downloaded browser)
[ -x /usr/bin/chromium ] || need_pkg chromium
[ -x /usr/bin/chromium ] || { echo "chromium is missing (Debian package chromium)" >&2; exit 1; }
