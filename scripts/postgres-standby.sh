#!/usr/bin/env bash
# A throwaway PostgreSQL standby for the tests that keel refuses to write
# to a server in recovery: a cluster of its own (initdb, own data folder,
# socket folder and port on 127.0.0.1) that is first started as a primary
# to create database DBNAME and the role keel_pw (password s3cret, SCRAM
# only, over TCP), then stopped and restarted with a `standby.signal` file
# in its data folder, so it stays in recovery: pg_is_in_recovery() is true
# and every session is read-only — the simplest real server that reports
# itself as a standby. The role postgres logs in without a password.
#
#   scripts/postgres-standby.sh DIR PORT WATCH_PID DBNAME
#
# DIR must not exist yet. The server stops and DIR is deleted as soon as
# process WATCH_PID (the test run) ends, however it ends.
set -euo pipefail
dir=$1 port=$2 watch=$3 dbname=$4
bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
for tool in "$bin/initdb" "$bin/postgres" "$bin/pg_ctl" "$bin/psql"; do
  command -v "$tool" >/dev/null || {
    echo "error: $tool is missing; install postgresql (Debian: apt-get install postgresql)" >&2
    exit 1
  }
done
case $dbname in
  *[!a-z0-9_]* | '') echo "error: DBNAME must be lower-case letters, digits and _" >&2; exit 1 ;;
esac
as_postgres() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

mkdir "$dir"
log=$dir/setup.log
run() { "$@" >>"$log" 2>&1 || { echo "error: $* failed:" >&2; cat "$log" >&2; rm -rf "$dir"; exit 1; }; }
if [ "$(id -u)" = 0 ]; then run chown postgres "$dir"; fi
run as_postgres "$bin/initdb" -D "$dir/data" -U postgres -A trust --no-sync
cat >"$dir/data/pg_hba.conf" <<'HBA'
local   all  all                       trust
host    all  keel_pw     127.0.0.1/32  scram-sha-256
host    all  postgres    127.0.0.1/32  trust
HBA
opts="-c port=$port -c listen_addresses=127.0.0.1 -c unix_socket_directories=$dir -c fsync=off -c ssl=off"

# as a primary, just long enough to create what the tests log in to
run as_postgres "$bin/pg_ctl" -D "$dir/data" -o "$opts" -l "$dir/setup-server.log" -w start
run as_postgres "$bin/psql" -h "$dir" -p "$port" -U postgres -d postgres -q -v ON_ERROR_STOP=1 \
  -c "CREATE ROLE keel_pw LOGIN PASSWORD 's3cret'" \
  -c "CREATE DATABASE $dbname"
run as_postgres "$bin/pg_ctl" -D "$dir/data" -m fast -w stop

# and for good as a standby: recovery with nothing to replay
as_postgres touch "$dir/data/standby.signal"
# shellcheck disable=SC2086
as_postgres "$bin/postgres" -D "$dir/data" $opts </dev/null >"$dir/server.log" 2>&1 &
launcher=$!

# the watchdog: stops the server and removes everything once the test run ends
(
  while kill -0 "$watch" 2>/dev/null && kill -0 "$launcher" 2>/dev/null; do sleep 0.5; done
  pid=$(head -1 "$dir/data/postmaster.pid" 2>/dev/null || true)
  if [ -n "$pid" ]; then
    kill -INT "$pid" 2>/dev/null || true
    for _ in $(seq 1 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
    kill -9 "$pid" 2>/dev/null || true
  fi
  rm -rf "$dir"
) </dev/null >/dev/null 2>&1 &
disown -a

for _ in $(seq 1 100); do
  state=$(as_postgres "$bin/psql" -h "$dir" -p "$port" -U postgres -d postgres -qAt \
    -c "SELECT pg_is_in_recovery()" 2>/dev/null || true)
  if [ "$state" = t ]; then exit 0; fi
  kill -0 "$launcher" 2>/dev/null || break
  sleep 0.1
done
echo "error: the standby PostgreSQL did not start in recovery on 127.0.0.1:$port:" >&2
tail -20 "$dir/server.log" >&2 || true
kill "$launcher" 2>/dev/null || true
exit 1
