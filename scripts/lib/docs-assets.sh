# ensure_docs_assets: installs Swagger UI's files, which `fhe-jobs serve` serves at /docs, into
# .build-docs/swagger-ui (the server's default --docs-assets): the registry package pinned by
# hash in scripts/lib/docs-assets.requirements.txt, in its own virtualenv under .build-docs,
# without its dependencies, then its swagger-ui-dist folder copied out. Nothing of Swagger UI
# is committed, and the page loads nothing from elsewhere. Quiet and quick when up to date
# (a stamp holds the requirements file's hash).
ensure_docs_assets() {
  local dir=.build-docs req=scripts/lib/docs-assets.requirements.txt want package
  want=$(sha256sum "$req" | cut -d' ' -f1)
  if [[ -f "$dir/swagger-ui/swagger-ui-bundle.js" && "$(cat "$dir/.requirements-sha256" 2>/dev/null)" == "$want" ]]; then
    return 0
  fi
  echo "installing Swagger UI's files into $dir/swagger-ui from $req" >&2
  rm -rf "$dir"
  python3 -m venv "$dir/venv"
  "$dir/venv/bin/pip" install -q --disable-pip-version-check --no-deps --require-hashes -r "$req" >&2
  # Found without importing it (its __init__ imports Django, which is not installed).
  package=$("$dir/venv/bin/python" -c \
    'import importlib.util; print(importlib.util.find_spec("drf_spectacular_sidecar").submodule_search_locations[0])')
  cp -r "$package/static/drf_spectacular_sidecar/swagger-ui-dist" "$dir/swagger-ui"
  echo "$want" > "$dir/.requirements-sha256"
}
