# The Python environment of the chain tooling (contracts/requirements.txt, all pinned): the
# vyper compiler and the dev chain (scripts/devchain) the chain tests run against.
source scripts/lib/python-venv.sh

ensure_chain_python() { ensure_python_venv .build-chain-venv contracts/requirements.txt; }
