# run_api_contract_tests: starts the built fhe-jobs on a throwaway data folder and runs
# schemathesis (pinned, in its own virtualenv under .build-venv) against openapi.yml with
# every check and every phase, the stateful one included (it follows the spec's links from
# POST /v1/jobs to the job, its cancellation and its result): every response of every
# operation must match the spec's status codes, content types, headers and schemas, no
# generated request may cause a 5xx, requests that fit the schema are accepted and those
# that do not are refused (the exceptions, each with its reason, are in
# scripts/lib/schemathesis.toml). A drift between the implementation and the contract fails
# the test command.
run_api_contract_tests() {
  local venv=.build-venv
  if [[ ! -x "$venv/bin/st" ]]; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q "schemathesis==4.32.5"
  fi
  local dir port pid token status=0
  dir=$(mktemp -d /tmp/fhe-jobs-contract.XXXXXX)
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  cat > "$dir/plans.json" <<'JSON'
{"default": {"name": "contract", "ratePerSecond": 100000, "burst": 100000, "maxActiveJobs": 1000000, "maxJobsPerMonth": 1000000}, "tenants": {}}
JSON
  .build/release/fhe-jobs serve --metrics-port 0 --data-dir "$dir/data" --port "$port" --workers 1 --plans "$dir/plans.json" > "$dir/server.log" 2>&1 &
  pid=$!
  for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/v1/health?probe=live" >/dev/null && break; sleep 0.1; done
  token=$(.build/release/fhe-jobs token --data-dir "$dir/data" --tenant contract --role admin)
  "$venv/bin/st" --config-file scripts/lib/schemathesis.toml run openapi.yml --url "http://127.0.0.1:$port" \
    -H "Authorization: Bearer $token" --checks all --phases examples,coverage,fuzzing,stateful \
    --max-examples 100 --seed 20261125 || status=$?
  kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null || true
  if grep -q " error " "$dir/server.log"; then
    echo "the server logged errors during the contract run:" >&2; grep " error " "$dir/server.log" | head -20 >&2; status=1
  fi
  rm -rf "$dir"
  return $status
}
