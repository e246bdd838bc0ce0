# The deployment files' checks (deploy/README.md, "What the tests check"): every kustomize overlay
# rendered and validated against the Kubernetes schemas, the Dockerfile linted, and the
# Prometheus rules, their unit tests and the Grafana dashboard checked with promtool, all
# against the service's real commands, variables, probes and metrics, offline. The pinned
# Python environment is .build-deploy-venv; promtool comes from Debian's prometheus package.
source scripts/lib/python-venv.sh

# promtool, unpacked from Debian's prometheus package into .build-promtool: installing the
# package would also set up a Prometheus server (and start it where services start), which the
# checks do not need. Made again when Debian's candidate version changes.
ensure_promtool() {
  local dir=.build-promtool version
  version=$(apt-cache policy prometheus 2>/dev/null | sed -n 's/^ *Candidate: //p')
  if [[ -z $version || $version == "(none)" ]]; then
    local sudo=""; [[ $(id -u) -eq 0 ]] || sudo="sudo"
    $sudo apt-get update -qq >&2
    version=$(apt-cache policy prometheus | sed -n 's/^ *Candidate: //p')
  fi
  if [[ -x $dir/usr/bin/promtool && "$(cat "$dir/.version" 2>/dev/null)" == "$version" ]]; then
    return 0
  fi
  echo "unpacking promtool from Debian's prometheus $version into $dir" >&2
  local scratch; scratch=$(mktemp -d)
  # Lists older than the mirror name a file it no longer has: refresh them once and retry.
  if ! (cd "$scratch" && apt-get download -q "prometheus=$version" >/dev/null 2>&1); then
    local sudo=""; [[ $(id -u) -eq 0 ]] || sudo="sudo"
    $sudo apt-get update -qq >&2
    version=$(apt-cache policy prometheus | sed -n 's/^ *Candidate: //p')
    (cd "$scratch" && apt-get download -q "prometheus=$version" >/dev/null 2>&1) || {
      echo "cannot download Debian's prometheus package $version" >&2; rm -rf "$scratch"; return 1; }
  fi
  dpkg-deb -x "$scratch"/prometheus_*.deb "$scratch/unpacked"
  rm -rf "$dir" && mkdir -p "$dir/usr/bin"
  cp "$scratch/unpacked/usr/bin/promtool" "$dir/usr/bin/promtool"
  echo "$version" > "$dir/.version"
  rm -rf "$scratch"
}

# Runs every check (each prints its problems), then fails if any failed. Needs the package's
# dependencies resolved (.build/checkouts: Hummingbird's metric names), as after `swift build`.
check_deploy_files() {
  ensure_python_venv .build-deploy-venv deploy/checks/requirements.txt
  ensure_promtool
  local python=.build-deploy-venv/bin/python failed=0
  $python deploy/checks/check_kubernetes.py || failed=1
  $python deploy/checks/check_dockerfile.py || failed=1
  $python deploy/checks/check_observability.py .build-promtool/usr/bin/promtool || failed=1
  return $failed
}
