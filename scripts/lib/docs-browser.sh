# run_docs_browser_test: starts the built fhe-jobs on a throwaway data folder with Swagger UI's
# files (ensure_docs_assets), and checks GET /docs in headless Chromium (Debian's `chromium`,
# which the test command installs) with scripts/docs_browser_check.py, Python's standard
# library driving the DevTools protocol through a pipe: every operation of openapi.yml is
# listed on the page, GET /v1/health and GET /v1/jobs (with a token given to the page's
# Authorize dialog) run from the page with Try it out and answer 200, the page loads nothing
# from another origin and breaks none of its Content-Security-Policy. The screenshot is kept
# in the test's temporary folder, which the output names.
source scripts/lib/docs-assets.sh

run_docs_browser_test() {
  ensure_docs_assets
  local dir port pid token status=0 browser
  browser=$(command -v chromium) || { echo "chromium is not installed (scripts/test installs it)" >&2; return 1; }
  dir=$(mktemp -d /tmp/fhe-jobs-docs.XXXXXX)
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  .build/release/fhe-jobs serve --metrics-port 0 --data-dir "$dir/data" --port "$port" --workers 0 \
    --docs-assets "$PWD/.build-docs/swagger-ui" --openapi-file "$PWD/openapi.yml" > "$dir/server.log" 2>&1 &
  pid=$!
  for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/v1/health?probe=live" >/dev/null && break; sleep 0.1; done
  token=$(.build/release/fhe-jobs token --data-dir "$dir/data" --tenant docs --role developer)
  python3 scripts/docs_browser_check.py --chromium "$browser" --url "http://127.0.0.1:$port" --spec openapi.yml \
    --token "$token" --out "$dir" || status=$?
  kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null || true
  if grep -q " error " "$dir/server.log"; then
    echo "the server logged errors during the docs check:" >&2; grep " error " "$dir/server.log" | head -20 >&2; status=1
  fi
  ((status == 0)) || { echo "the docs check failed; its server log is $dir/server.log" >&2; return $status; }
  rm -rf "$dir/data" "$dir/server.log"
  echo "docs check passed; screenshot kept at $dir/docs.png" >&2
}
