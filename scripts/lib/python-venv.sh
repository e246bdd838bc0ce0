# ensure_python_venv VENV REQUIREMENTS [PIP-OPTIONS...]: creates the virtualenv VENV with the
# pinned REQUIREMENTS (installed with PIP-OPTIONS, e.g. --no-deps), or recreates it when that
# file changed since it was made (a stamp holds the file's hash). Quiet and quick when it is up
# to date. Returns 0 either way; VENV/.requirements-sha256 tells callers which install they have.
ensure_python_venv() {
  local venv=$1 req=$2 want
  shift 2
  want=$(sha256sum "$req" | cut -d' ' -f1)
  if [[ -x "$venv/bin/python" && "$(cat "$venv/.requirements-sha256" 2>/dev/null)" == "$want" ]]; then
    return 0
  fi
  echo "creating $venv from $req" >&2
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q --disable-pip-version-check "$@" -r "$req" >&2
  echo "$want" > "$venv/.requirements-sha256"
}
