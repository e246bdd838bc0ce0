# ensure_docs_assets: installs Swagger UI's files, which `fhe-jobs serve` serves at /docs, into
# .build-docs/swagger-ui (the server's default --docs-assets): the registry package pinned by
# hash in scripts/lib/docs-assets.requirements.txt, in its own virtualenv under .build-docs,
# without its dependencies, then its swagger-ui-dist folder copied out. Nothing of Swagger UI
# is committed, and the page loads nothing from elsewhere. Quiet and quick when up to date
# (a stamp holds the requirements file's hash).
source scripts/lib/python-venv.sh
ensure_docs_assets() {
  local dir=.build-docs package
  # Without its dependencies: its __init__ imports Django, which the files do not need.
  ensure_python_venv "$dir/venv" scripts/lib/docs-assets.requirements.txt --no-deps
  # The files are copied again whenever the venv was (re)made from another requirements file.
  if [[ -f "$dir/swagger-ui/swagger-ui-bundle.js" ]] && cmp -s "$dir/swagger-ui/.requirements-sha256" "$dir/venv/.requirements-sha256"; then
    return 0
  fi
  echo "copying Swagger UI's files into $dir/swagger-ui" >&2
  rm -rf "$dir/swagger-ui"
  # Found without importing it (its __init__ imports Django).
  package=$("$dir/venv/bin/python" -c \
    'import importlib.util; print(importlib.util.find_spec("drf_spectacular_sidecar").submodule_search_locations[0])')
  cp -r "$package/static/drf_spectacular_sidecar/swagger-ui-dist" "$dir/swagger-ui"
  cp "$dir/venv/.requirements-sha256" "$dir/swagger-ui/.requirements-sha256"
}
