# The Python environment of the independent retrieval client (scripts/retrieval_peer.py:
# Python's cryptography and pyhpke, pinned in scripts/retrieval_peer.requirements.txt), which
# the retrieval tests call to sign requests, open seals and check answers.
source scripts/lib/python-venv.sh

ensure_hpke_python() { ensure_python_venv .build-hpke-venv scripts/retrieval_peer.requirements.txt; }
