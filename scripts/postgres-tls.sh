#!/usr/bin/env bash
# A throwaway PostgreSQL for the TLS tests that the shared server cannot
# serve (it is trust-only): SCRAM over TLS, where channel binding is used,
# and client certificates. Its own data folder (initdb), socket folder and
# port on 127.0.0.1; a certificate authority, a server certificate (SAN
# localhost) and a client certificate (CN keel_cert) made here with openssl.
#
#   scripts/postgres-tls.sh [--cn-only] [--standby] DIR PORT WATCH_PID
#
# --cn-only: the server certificate names localhost only in its subject CN,
#   with no subjectAltName (an old-style self-signed certificate, which
#   TLS host-name checks ignore).
# --standby: the server stays in recovery with hot_standby=off, so every
#   login is refused with SQLSTATE 57P03 (cannot_connect_now), as a server
#   that is starting up answers; no roles are created.
#
# DIR must not exist yet; DIR/certs/ca.pem is the CA, DIR/certs/client.pem
# and client.key the client's. Roles: postgres (trust, no TLS needed),
# keel_scram (password s3cret, TLS + SCRAM only, may create in public),
# keel_cert (TLS + client certificate only, a member of keel_scram). The
# server stops and DIR is deleted as soon as process WATCH_PID (the test
# run) ends, however it ends.
set -euo pipefail
cn_only=false standby=false
while [ $# -gt 0 ]; do
  case $1 in
    --cn-only) cn_only=true; shift ;;
    --standby) standby=true; shift ;;
    --*) echo "error: unknown option $1 (use --cn-only, --standby)" >&2; exit 1 ;;
    *) break ;;
  esac
done
dir=$1 port=$2 watch=$3
bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
for tool in "$bin/initdb" "$bin/postgres" "$bin/psql" openssl; do
  command -v "$tool" >/dev/null || {
    echo "error: $tool is missing; install postgresql and openssl (Debian: apt-get install postgresql openssl)" >&2
    exit 1
  }
done
as_postgres() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

mkdir "$dir"
mkdir "$dir/certs"
certs=$dir/certs
log=$dir/setup.log
run() { "$@" >>"$log" 2>&1 || { echo "error: $* failed:" >&2; cat "$log" >&2; rm -rf "$dir"; exit 1; }; }
run openssl req -x509 -newkey rsa:2048 -nodes -sha256 -days 2 -subj "/CN=keel test CA" \
  -keyout "$certs/ca.key" -out "$certs/ca.pem"
run openssl req -newkey rsa:2048 -nodes -sha256 -subj "/CN=localhost" \
  -keyout "$certs/server.key" -out "$certs/server.csr"
san='subjectAltName=DNS:localhost\n'
if $cn_only; then san=''; fi
printf "${san}"'basicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n' >"$certs/server.cnf"
run openssl x509 -req -sha256 -days 2 -in "$certs/server.csr" -CA "$certs/ca.pem" -CAkey "$certs/ca.key" \
  -CAcreateserial -extfile "$certs/server.cnf" -out "$certs/server.pem"
run openssl req -newkey rsa:2048 -nodes -sha256 -subj "/CN=keel_cert" \
  -keyout "$certs/client.key" -out "$certs/client.csr"
printf 'basicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=clientAuth\n' >"$certs/client.cnf"
run openssl x509 -req -sha256 -days 2 -in "$certs/client.csr" -CA "$certs/ca.pem" -CAkey "$certs/ca.key" \
  -CAcreateserial -extfile "$certs/client.cnf" -out "$certs/client.pem"
run chmod 600 "$certs/server.key"
if [ "$(id -u)" = 0 ]; then run chown -R postgres "$dir"; fi
run as_postgres "$bin/initdb" -D "$dir/data" -U postgres -A trust --no-sync
cat >"$dir/data/pg_hba.conf" <<'HBA'
local   all  all                       trust
hostssl all  keel_scram  127.0.0.1/32  scram-sha-256
hostssl all  keel_cert   127.0.0.1/32  cert
host    all  postgres    127.0.0.1/32  trust
HBA
if $standby; then
  touch "$dir/data/standby.signal"
  echo "hot_standby = off" >>"$dir/data/postgresql.conf"
fi

as_postgres "$bin/postgres" -D "$dir/data" -c port="$port" -c listen_addresses=127.0.0.1 \
  -c unix_socket_directories="$dir" -c fsync=off -c ssl=on \
  -c ssl_cert_file="$certs/server.pem" -c ssl_key_file="$certs/server.key" -c ssl_ca_file="$certs/ca.pem" \
  </dev/null >"$dir/server.log" 2>&1 &
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
  if $standby; then
    # pg_isready: 1 = the server answers and rejects logins (in recovery)
    rc=0
    as_postgres "$bin/pg_isready" -h "$dir" -p "$port" -U postgres -d postgres >/dev/null 2>&1 || rc=$?
    if [ "$rc" = 1 ]; then exit 0; fi
  elif as_postgres "$bin/psql" -h "$dir" -p "$port" -U postgres -d postgres -qAt -c "SELECT 1" >/dev/null 2>&1; then
    as_postgres "$bin/psql" -h "$dir" -p "$port" -U postgres -d postgres -q -v ON_ERROR_STOP=1 \
      -c "CREATE ROLE keel_scram LOGIN CREATEDB PASSWORD 's3cret'" \
      -c "CREATE ROLE keel_cert LOGIN CREATEDB IN ROLE keel_scram" \
      -c "GRANT ALL ON SCHEMA public TO keel_scram" >/dev/null
    exit 0
  fi
  kill -0 "$launcher" 2>/dev/null || break
  sleep 0.1
done
echo "error: the TLS PostgreSQL did not start on 127.0.0.1:$port:" >&2
tail -20 "$dir/server.log" >&2 || true
kill "$launcher" 2>/dev/null || true
exit 1
