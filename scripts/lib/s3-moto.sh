# start_test_s3: starts a throwaway S3-compatible server (moto in server mode, pinned in
# .build-s3-venv from scripts/s3_test_server.requirements.txt) on a free loopback port, with
# SigV4 checking ON: moto checks every request's signature once INITIAL_NO_AUTH_ACTION_COUNT
# unauthenticated actions are spent (moto/core/authorization.py), and scripts/s3_peer.py spends
# the three it allows on an IAM user, its s3:* policy and its access key, then makes the
# bucket with that key and checks that a wrong secret is refused. Exports
# FHE_JOBS_TEST_S3_ENDPOINT, _BUCKET, _ACCESS_KEY_ID, _SECRET_ACCESS_KEY and FHE_JOBS_TEST_S3_PYTHON
# (the venv's python, which the signer's cross-check runs scripts/s3_peer.py with), and stops
# the server when the calling shell exits (then runs whatever EXIT trap was set before).
source scripts/lib/python-venv.sh

ensure_s3_python() { ensure_python_venv .build-s3-venv scripts/s3_test_server.requirements.txt; }

start_test_s3() {
  ensure_s3_python
  local dir; dir=$(mktemp -d /tmp/fhe-jobs-s3.XXXXXX)
  local port; port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  INITIAL_NO_AUTH_ACTION_COUNT=3 .build-s3-venv/bin/moto_server -H 127.0.0.1 -p "$port" >"$dir/log" 2>&1 &
  TEST_S3_PID=$!; TEST_S3_DIR=$dir
  local previous; previous=$(trap -p EXIT | sed -E "s/^trap -- '(.*)' EXIT$/\1/")
  trap "stop_test_s3${previous:+; $previous}" EXIT
  local endpoint="http://127.0.0.1:$port" tries=0
  until curl -s -o /dev/null "$endpoint/moto-api/"; do
    tries=$((tries + 1))
    if (( tries > 100 )) || ! kill -0 "$TEST_S3_PID" 2>/dev/null; then
      echo "the S3 test server did not start:" >&2; cat "$dir/log" >&2; return 1
    fi
    sleep 0.1
  done
  local keys; keys=$(.build-s3-venv/bin/python scripts/s3_peer.py bootstrap "$endpoint" fhe-jobs-test) \
    || { echo "could not set up the S3 test server:" >&2; cat "$dir/log" >&2; return 1; }
  export FHE_JOBS_TEST_S3_ENDPOINT=$endpoint FHE_JOBS_TEST_S3_BUCKET=fhe-jobs-test
  export FHE_JOBS_TEST_S3_ACCESS_KEY_ID=${keys%% *} FHE_JOBS_TEST_S3_SECRET_ACCESS_KEY=${keys#* }
  export FHE_JOBS_TEST_S3_PYTHON=$PWD/.build-s3-venv/bin/python
  echo "test S3 (moto, SigV4 checked) at $endpoint" >&2
}

stop_test_s3() {
  [[ -n "${TEST_S3_PID:-}" ]] || return 0
  kill "$TEST_S3_PID" 2>/dev/null || true
  wait "$TEST_S3_PID" 2>/dev/null || true
  rm -rf "$TEST_S3_DIR"
  TEST_S3_PID=
}
