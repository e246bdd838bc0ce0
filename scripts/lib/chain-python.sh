# The Python environment of the chain tooling (contracts/requirements.txt, all pinned) and the
# local dev chain the Swift chain tests run against.

# ensure_chain_python: creates .build-chain-venv with the pinned requirements, or recreates it
# when contracts/requirements.txt changed since it was made (a stamp holds the file's hash).
# Quiet and quick when it is up to date.
ensure_chain_python() {
  local venv=.build-chain-venv req=contracts/requirements.txt want
  want=$(sha256sum "$req" | cut -d' ' -f1)
  if [[ -x "$venv/bin/python" && "$(cat "$venv/.requirements-sha256" 2>/dev/null)" == "$want" ]]; then
    return 0
  fi
  echo "creating $venv from $req" >&2
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q --disable-pip-version-check -r "$req" >&2
  echo "$want" > "$venv/.requirements-sha256"
}

# start_devchain [ARG...]: starts scripts/devchain on a free loopback port (extra arguments,
# such as --fund 0xADDRESS, go to it), waits until it answers, exports FHE_DEVCHAIN_URL, and
# stops it when the calling shell exits (after any EXIT trap already set, such as
# start_test_postgres's).
start_devchain() {
  ensure_chain_python
  DEVCHAIN_LOG=$(mktemp /tmp/fhe-devchain.XXXXXX)
  # --port 0: the dev chain binds a free port itself and names it in its ready line, so there
  # is no window between picking a port and binding it.
  scripts/devchain --port 0 "$@" > "$DEVCHAIN_LOG" 2>&1 &
  DEVCHAIN_PID=$!
  local previous; previous=$(trap -p EXIT | sed -E "s/^trap -- '(.*)' EXIT$/\1/")
  trap "stop_devchain${previous:+; $previous}" EXIT
  local url=""
  for _ in $(seq 200); do
    url=$(sed -n 's/^devchain ready on \(http[^ ]*\) .*/\1/p' "$DEVCHAIN_LOG")
    [[ -n "$url" ]] && break
    kill -0 "$DEVCHAIN_PID" 2>/dev/null || break
    sleep 0.1
  done
  if [[ -z "$url" ]]; then
    echo "the dev chain did not start:" >&2; cat "$DEVCHAIN_LOG" >&2; return 1
  fi
  export FHE_DEVCHAIN_URL="$url"
  echo "dev chain at $FHE_DEVCHAIN_URL" >&2
}

# stop_devchain: stops the dev chain start_devchain started, if any.
stop_devchain() {
  [[ -n "${DEVCHAIN_PID:-}" ]] || return 0
  kill "$DEVCHAIN_PID" 2>/dev/null || true
  wait "$DEVCHAIN_PID" 2>/dev/null || true
  rm -f "$DEVCHAIN_LOG"
  DEVCHAIN_PID=""
}
