# Sourced by the scripts: make sure the database servers the tests and the
# benchmarks use are up, starting them where installed but stopped.
PG_HOST=127.0.0.1 PG_PORT=5432 MY_HOST=127.0.0.1 MY_PORT=3306

port_open() { (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; }

wait_port() { # host port seconds
  for _ in $(seq 1 $(( $3 * 4 ))); do port_open "$1" "$2" && return 0; sleep 0.25; done
  return 1
}

ensure_postgres() {
  port_open $PG_HOST $PG_PORT && return 0
  if command -v pg_ctlcluster >/dev/null && [ -d /etc/postgresql ]; then
    echo "starting PostgreSQL..." >&2
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | sort -V | tail -1)" main start >&2 || true
  fi
  wait_port $PG_HOST $PG_PORT 30 && return 0
  echo "error: PostgreSQL is not reachable on $PG_HOST:$PG_PORT and could not be started." >&2
  echo "hint: install and start it (trust auth for user postgres on 127.0.0.1); its tests are never skipped." >&2
  exit 1
}

ensure_mariadb() {
  port_open $MY_HOST $MY_PORT && return 0
  if [ -x /usr/sbin/mariadbd ]; then
    echo "starting MariaDB..." >&2
    start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd >&2 || true
  fi
  wait_port $MY_HOST $MY_PORT 30 && return 0
  echo "error: MariaDB/MySQL is not reachable on $MY_HOST:$MY_PORT and could not be started." >&2
  echo "hint: install and start it (user root, empty password); its tests are never skipped." >&2
  exit 1
}

# The TLS tests start throwaway servers of their own (never the shared
# ones): a TLS MariaDB (scripts/mariadb-tls.sh) and a PostgreSQL with SCRAM
# and client certificates (scripts/postgres-tls.sh). They need these tools.
ensure_tls_tools() {
  local missing=()
  # pg_dump and mysqldump: real dump files are tested as baseline migrations
  for tool in openssl mariadb-install-db runuser pg_dump mysqldump; do command -v "$tool" >/dev/null || missing+=("$tool"); done
  [ -x /usr/sbin/mariadbd ] || command -v mariadbd >/dev/null || missing+=(mariadbd)
  ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing+=(initdb)
  [ ${#missing[@]} -eq 0 ] && return 0
  echo "error: the TLS and dump-file tests need ${missing[*]}, which is not installed." >&2
  echo "hint: apt-get install openssl mariadb-server mariadb-client postgresql postgresql-client; these tests are never skipped." >&2
  exit 1
}
