# The Python environment of the independent retrieval client (scripts/retrieval_peer.py:
# Python's cryptography and pyhpke, pinned in scripts/retrieval_peer.requirements.txt), which
# the retrieval tests call to sign requests, open seals and check answers.

# ensure_hpke_python: creates .build-hpke-venv with the pinned requirements, or recreates it
# when the requirements changed since it was made (a stamp holds the file's hash).
ensure_hpke_python() {
  local venv=.build-hpke-venv req=scripts/retrieval_peer.requirements.txt want
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
