# Shared set-up of the bench scripts (source it after setting ROOT):
# PostgreSQL running, libpq variables for loopback without TLS, the real
# psql binary (Debian's wrapper costs ~30 ms per start), and a release
# build of keel.  Sets PSQL, KEEL and U (the server URL, no database).
# GSS encryption is turned off by the scripts that can (dbmate refuses to
# run with PGGSSENCMODE set, so bench/migrations.sh leaves it alone).
. "$ROOT/scripts/services.sh"
ensure_postgres
export PGHOST=127.0.0.1 PGPORT=5432 PGUSER="${PGUSER:-postgres}" PGSSLMODE=disable
PG_BIN="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)"
[ -n "$PG_BIN" ] && export PATH="$PG_BIN:$PATH"
PSQL="psql -X -q -v ON_ERROR_STOP=1"
(cd "$ROOT" && cargo build --release --locked -q -p keel-cli)
KEEL="$ROOT/target/release/keel"
U="postgresql://$PGUSER@$PGHOST:$PGPORT"
