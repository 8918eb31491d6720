#!/usr/bin/env bash
# Installs PostgreSQL's server from Debian's postgresql package, when it is missing, for hack/localpostgres: the
# database tier's tests run a real server (initdb and postgres from /usr/lib/postgresql/<version>/bin) in a temporary
# directory. Needs root and apt-get; on a machine without them it says so and fails, so that the database tier never
# passes silently. TEST_DATABASE=skip skips the database tier (and this script) altogether.
set -euo pipefail

if [ "${TEST_DATABASE:-}" = skip ]; then
  echo "==> database tier skipped (TEST_DATABASE=skip): no PostgreSQL server in this run" >&2
  exit 0
fi
for initdb in /usr/lib/postgresql/*/bin/initdb; do
  [ -x "$initdb" ] && exit 0
done
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
  echo "The database tier runs a PostgreSQL server and needs Debian's postgresql package: install it as root" >&2
  echo "(apt-get install --no-install-recommends postgresql), or run with TEST_DATABASE=skip to skip the tier." >&2
  exit 1
fi
echo "==> installing postgresql (Debian package, for hack/localpostgres's test server)" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get install -y --no-install-recommends postgresql >/dev/null || {
  apt-get update >/dev/null && apt-get install -y --no-install-recommends postgresql >/dev/null
}
