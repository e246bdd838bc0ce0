# start_test_postgres: starts a throwaway PostgreSQL on a free loopback port, exports
# FHE_JOBS_TEST_POSTGRES_URL, and stops and deletes it when the calling shell exits.
# PostgreSQL refuses to run as root, so as root it runs as the `postgres` user in a
# folder that user owns. TEST_POSTGRES_OPTIONS adds server options (`-c name=value ...`).
# stop_test_postgres_server and start_test_postgres_server stop it (fast shutdown: sessions
# cut, nothing lost) and start it again on the same port and data, for outage drills.
start_test_postgres() {
  local bin
  bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
  [[ -x "$bin/initdb" ]] || { echo "PostgreSQL server binaries not found" >&2; return 1; }
  local dir; dir=$(mktemp -d /tmp/fhe-jobs-pg.XXXXXX)
  local as=()
  if [[ $(id -u) -eq 0 ]]; then chown postgres "$dir"; as=(runuser -u postgres --); fi
  local port; port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  "${as[@]}" "$bin/initdb" -D "$dir/data" -A trust -U postgres >/dev/null
  TEST_POSTGRES_DIR="$dir"; TEST_POSTGRES_AS=("${as[@]}"); TEST_POSTGRES_BIN="$bin"
  TEST_POSTGRES_SERVER_OPTIONS="-p $port -k $dir -c listen_addresses=127.0.0.1 -c max_connections=200 -c fsync=off ${TEST_POSTGRES_OPTIONS:-}"
  start_test_postgres_server
  trap stop_test_postgres EXIT
  export FHE_JOBS_TEST_POSTGRES_URL="postgres://postgres@127.0.0.1:$port/postgres"
  echo "test PostgreSQL at $FHE_JOBS_TEST_POSTGRES_URL" >&2
}
start_test_postgres_server() {
  "${TEST_POSTGRES_AS[@]}" "$TEST_POSTGRES_BIN/pg_ctl" -D "$TEST_POSTGRES_DIR/data" -l "$TEST_POSTGRES_DIR/log" -w \
    -o "$TEST_POSTGRES_SERVER_OPTIONS" start >/dev/null
}
stop_test_postgres_server() {
  "${TEST_POSTGRES_AS[@]}" "$TEST_POSTGRES_BIN/pg_ctl" -D "$TEST_POSTGRES_DIR/data" -m fast -w stop >/dev/null
}
stop_test_postgres() {
  [[ -n "${TEST_POSTGRES_DIR:-}" ]] || return 0
  "${TEST_POSTGRES_AS[@]}" "$TEST_POSTGRES_BIN/pg_ctl" -D "$TEST_POSTGRES_DIR/data" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$TEST_POSTGRES_DIR"
}
