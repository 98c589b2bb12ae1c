#!/usr/bin/env bash
# A throwaway TLS-enabled MariaDB for the TLS tests, never the shared server:
# its own data folder (mariadb-install-db), socket and port on 127.0.0.1, a
# certificate authority and a server certificate (SAN localhost) made here
# with openssl, and --ssl-ca/--ssl-cert/--ssl-key.
#
#   scripts/mariadb-tls.sh DIR PORT WATCH_PID
#
# DIR must not exist yet. Prints nothing on success; DIR/certs/ca.pem is
# the CA, DIR/certs/client.pem and client.key the certificate of user
# keel_x509 (REQUIRE X509); root has an empty password. The server stops and DIR is deleted as soon as process WATCH_PID
# (the test run) ends, however it ends.
set -euo pipefail
dir=$1 port=$2 watch=$3
mariadbd=$(command -v mariadbd || echo /usr/sbin/mariadbd)
for tool in "$mariadbd" mariadb-install-db openssl; do
  command -v "$tool" >/dev/null || {
    echo "error: $tool is missing; install mariadb-server and openssl (Debian: apt-get install mariadb-server openssl)" >&2
    exit 1
  }
done
mkdir "$dir"
mkdir "$dir/certs"
certs=$dir/certs
log=$dir/setup.log
run() { "$@" >>"$log" 2>&1 || { echo "error: $* failed:" >&2; cat "$log" >&2; rm -rf "$dir"; exit 1; }; }
run openssl req -x509 -newkey rsa:2048 -nodes -sha256 -days 2 -subj "/CN=keel test CA" \
  -keyout "$certs/ca.key" -out "$certs/ca.pem"
run openssl req -newkey rsa:2048 -nodes -sha256 -subj "/CN=localhost" \
  -keyout "$certs/server.key" -out "$certs/server.csr"
printf 'subjectAltName=DNS:localhost\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n' >"$certs/ext.cnf"
run openssl x509 -req -sha256 -days 2 -in "$certs/server.csr" -CA "$certs/ca.pem" -CAkey "$certs/ca.key" \
  -CAcreateserial -extfile "$certs/ext.cnf" -out "$certs/server.pem"
run openssl req -newkey rsa:2048 -nodes -sha256 -subj "/CN=keel_x509" \
  -keyout "$certs/client.key" -out "$certs/client.csr"
printf 'basicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=clientAuth\n' >"$certs/client.cnf"
run openssl x509 -req -sha256 -days 2 -in "$certs/client.csr" -CA "$certs/ca.pem" -CAkey "$certs/ca.key" \
  -CAcreateserial -extfile "$certs/client.cnf" -out "$certs/client.pem"
# Its own tmpdir too: at start-up mariadbd deletes every `#sql*` file in its
# tmpdir, which in /tmp would be the shared server's in-flight temp tables.
mkdir -p "$dir/tmp"
run mariadb-install-db --no-defaults --user=root --datadir="$dir/data" --tmpdir="$dir/tmp" \
  --auth-root-authentication-method=normal --skip-test-db

"$mariadbd" --no-defaults --user=root --datadir="$dir/data" --bind-address=127.0.0.1 --port="$port" \
  --socket="$dir/mysqld.sock" --pid-file="$dir/mysqld.pid" --log-error="$dir/error.log" \
  --tmpdir="$dir/tmp" --skip-log-bin --innodb-buffer-pool-size=32M \
  --ssl-ca="$certs/ca.pem" --ssl-cert="$certs/server.pem" --ssl-key="$certs/server.key" \
  </dev/null >/dev/null 2>&1 &
server=$!

# the watchdog: stops the server and removes everything once the test run ends
(
  while kill -0 "$watch" 2>/dev/null && kill -0 "$server" 2>/dev/null; do sleep 0.5; done
  kill "$server" 2>/dev/null || true
  for _ in $(seq 1 40); do kill -0 "$server" 2>/dev/null || break; sleep 0.25; done
  kill -9 "$server" 2>/dev/null || true
  rm -rf "$dir"
) </dev/null >/dev/null 2>&1 &
disown -a

for _ in $(seq 1 120); do
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
    run mariadb --no-defaults -S "$dir/mysqld.sock" -u root \
      -e "CREATE USER keel_x509@'%' REQUIRE X509; GRANT ALL ON *.* TO keel_x509@'%'"
    exit 0
  fi
  kill -0 "$server" 2>/dev/null || break
  sleep 0.1
done
echo "error: the TLS MariaDB did not start on 127.0.0.1:$port:" >&2
tail -20 "$dir/error.log" >&2 || true
kill "$server" 2>/dev/null || true
exit 1
