#!/usr/bin/env bash
# A throwaway PgBouncer in transaction pooling in front of the shared
# PostgreSQL (127.0.0.1:5432, trust), for the tests of keel behind a pooler.
# Installs Debian's `pgbouncer` package when it is missing. Its own ini,
# auth file, pidfile, socket folder and log in DIR; `* = host=127.0.0.1
# port=5432` so every database the tests create is reachable through it;
# `default_pool_size = 3`, so concurrent clients really share server
# connections.
#
#   scripts/pgbouncer.sh DIR PORT WATCH_PID   start; prints PORT
#   scripts/pgbouncer.sh --stop DIR           stop now
#   scripts/pgbouncer.sh --install            only install it when missing
#
# DIR must not exist yet. PgBouncer stops and DIR is deleted as soon as
# process WATCH_PID (the test run) ends, however it ends.
set -euo pipefail

stop() {
  local dir=$1 pid
  pid=$(cat "$dir/pgbouncer.pid" 2>/dev/null || true)
  if [ -n "$pid" ]; then
    kill -INT "$pid" 2>/dev/null || true
    for _ in $(seq 1 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
    kill -9 "$pid" 2>/dev/null || true
  fi
  rm -rf "$dir"
}

if [ "${1:-}" = --stop ]; then
  stop "$2"
  exit 0
fi

if ! command -v pgbouncer >/dev/null && [ ! -x /usr/sbin/pgbouncer ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends pgbouncer >/dev/null 2>&1 || {
      echo "error: installing pgbouncer with apt-get failed; install it (Debian: apt-get install pgbouncer)" >&2
      exit 1
    }
  else
    echo "error: pgbouncer is missing; install it (Debian: apt-get install pgbouncer)" >&2
    exit 1
  fi
fi
[ "${1:-}" = --install ] && exit 0
dir=$1 port=$2 watch=$3
bin=$(command -v pgbouncer || echo /usr/sbin/pgbouncer)
# PgBouncer refuses to run as root
as_postgres() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

mkdir "$dir"
cat >"$dir/pgbouncer.ini" <<INI
[databases]
* = host=127.0.0.1 port=5432

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $port
unix_socket_dir = $dir
auth_type = trust
auth_file = $dir/userlist.txt
pool_mode = transaction
max_client_conn = 100
default_pool_size = 3
min_pool_size = 0
reserve_pool_size = 0
server_reset_query =
ignore_startup_parameters = extra_float_digits,options
logfile = $dir/pgbouncer.log
pidfile = $dir/pgbouncer.pid
admin_users = postgres
INI
echo '"postgres" ""' >"$dir/userlist.txt"
if [ "$(id -u)" = 0 ]; then chown -R postgres "$dir"; fi
as_postgres "$bin" -d "$dir/pgbouncer.ini" >"$dir/start.log" 2>&1 || {
  echo "error: pgbouncer did not start:" >&2
  cat "$dir/start.log" "$dir/pgbouncer.log" >&2 2>/dev/null || true
  rm -rf "$dir"
  exit 1
}

# the watchdog: stops PgBouncer and removes everything once the test run ends
(
  while kill -0 "$watch" 2>/dev/null; do sleep 0.5; done
  stop "$dir"
) </dev/null >/dev/null 2>&1 &
disown -a

for _ in $(seq 1 100); do
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
    echo "$port"
    exit 0
  fi
  sleep 0.1
done
echo "error: pgbouncer did not listen on 127.0.0.1:$port:" >&2
cat "$dir/pgbouncer.log" >&2 2>/dev/null || true
stop "$dir"
exit 1
