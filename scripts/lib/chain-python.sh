# The Python environment of the chain tooling (contracts/requirements.txt, all pinned): the
# vyper compiler and the dev chain (scripts/devchain) the chain tests run against.

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
