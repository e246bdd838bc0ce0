"""Tests of scripts/devchain over HTTP, as the Swift client sees it: transactions signed with
eth-account, the registry deployed from its committed artifact, and every mempool rule the
confirmer's fault handling depends on (stuck, underpriced and accepted replacements, dropped,
nonce too low, a reorg made with evm_snapshot/evm_revert).

    .build-chain-venv/bin/python scripts/devchain_test.py

It starts its own dev chain on a free port and stops it at the end; it exits non-zero at the
first failed check.
"""

import json
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from eth_abi import abi
from eth_account import Account
from eth_utils import keccak, to_checksum_address

ROOT = Path(__file__).resolve().parent.parent
GWEI = 10**9
CHAIN_ID = 1337
OWNER = Account.from_key((1).to_bytes(32, "big"))
OTHER = Account.from_key((2).to_bytes(32, "big"))
UNFUNDED = Account.from_key((99).to_bytes(32, "big"))
ARTIFACT = json.loads((ROOT / "contracts" / "JobsRegistry.json").read_text())


class Chain:
    """A minimal JSON-RPC client: call() returns the result or raises RpcFailure."""

    def __init__(self, url):
        self.url = url

    def post(self, body):
        request = urllib.request.Request(self.url, json.dumps(body).encode(),
                                         {"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.load(response)

    def call(self, method, *params):
        answer = self.post({"jsonrpc": "2.0", "id": 1, "method": method, "params": list(params)})
        if "error" in answer:
            raise RpcFailure(answer["error"])
        return answer["result"]

    def error(self, method, *params):
        try:
            result = self.call(method, *params)
        except RpcFailure as e:
            return e.error
        raise AssertionError(f"{method} succeeded ({result}) where an error was expected")

    def number(self, method, *params):
        return int(self.call(method, *params), 16)


class RpcFailure(Exception):
    def __init__(self, error):
        super().__init__(error)
        self.error = error


def selector(signature):
    return keccak(text=signature)[:4]


def calldata(signature, types, values):
    return "0x" + (selector(signature) + abi.encode(types, values)).hex()


def sign(account, nonce, data="0x", to=None, tip=1 * GWEI, max_fee=None, gas=300_000, value=0,
         chain_id=CHAIN_ID, legacy=False):
    tx = {"nonce": nonce, "gas": gas, "value": value, "data": data, "chainId": chain_id}
    if to is not None:
        tx["to"] = to_checksum_address(to)
    if legacy:
        tx["gasPrice"] = max_fee or 2 * GWEI
    else:
        tx.update(type=2, maxPriorityFeePerGas=tip, maxFeePerGas=max_fee or tip + 2 * GWEI)
    return "0x" + account.sign_transaction(tx).raw_transaction.hex()


def tx_hash(raw):
    return "0x" + keccak(bytes.fromhex(raw[2:])).hex()


def check(condition, what):
    if not condition:
        raise AssertionError(what)
    print(f"ok  {what}")


def start_devchain():
    process = subprocess.Popen(
        [sys.executable, str(ROOT / "scripts" / "devchain.py"), "--port", "0",
         "--fund", OWNER.address, "--fund", f"{OTHER.address}:{10**18}"],
        stdout=subprocess.PIPE, text=True)
    line = process.stdout.readline()
    if not line.startswith("devchain ready on "):
        process.kill()
        raise SystemExit(f"the dev chain did not start: {line!r}")
    return process, line.split()[3]


def main():
    process, url = start_devchain()
    try:
        run(Chain(url))
    finally:
        process.terminate()
        process.wait()
    print("devchain tests passed")


def run(chain):
    check(chain.call("eth_chainId") == hex(CHAIN_ID), "eth_chainId answers the --chain-id")
    check(chain.number("eth_getBalance", OWNER.address, "latest") == 1000 * 10**18,
          "--fund without an amount gives 1000 ETH in the genesis state")
    check(chain.number("eth_getBalance", OTHER.address, "latest") == 10**18, "--fund ADDRESS:WEI gives WEI")
    batch = chain.post([{"jsonrpc": "2.0", "id": 7, "method": "eth_blockNumber", "params": []},
                        {"jsonrpc": "2.0", "id": 8, "method": "no_such", "params": []}])
    check(batch[0] == {"jsonrpc": "2.0", "id": 7, "result": "0x0"} and batch[1]["error"]["code"] == -32601,
          "a batch request gets one answer per call, errors included")

    # Deploy from the committed artifact; the code on chain is the artifact's runtime code.
    deploy = sign(OWNER, 0, ARTIFACT["bytecode"], gas=1_000_000)
    estimate = chain.number("eth_estimateGas", {"from": OWNER.address, "data": ARTIFACT["bytecode"]})
    check(chain.call("eth_sendRawTransaction", deploy) == tx_hash(deploy), "eth_sendRawTransaction returns the hash")
    receipt = chain.call("eth_getTransactionReceipt", tx_hash(deploy))
    check(receipt["status"] == "0x1" and receipt["blockNumber"] == "0x1", "automine: the deployment is mined in block 1")
    check(int(receipt["gasUsed"], 16) <= estimate, "eth_estimateGas covers the gas used")
    registry = receipt["contractAddress"]
    check(chain.call("eth_getCode", registry, "latest") == ARTIFACT["deployedBytecode"],
          "eth_getCode is the artifact's deployedBytecode")
    block = chain.call("eth_getBlockByNumber", "0x1", False)
    check(block["transactions"] == [tx_hash(deploy)] and block["hash"] == receipt["blockHash"]
          and int(block["baseFeePerGas"], 16) > 0, "eth_getBlockByNumber lists the hashes and a base fee")
    check(int(receipt["effectiveGasPrice"], 16) == int(block["baseFeePerGas"], 16) + 1 * GWEI,
          "effectiveGasPrice is base fee plus tip")

    # confirm, read back through eth_call, and its event through eth_getLogs.
    job = keccak(text="job-1")
    result = keccak(text="result-1")
    confirm = calldata("confirm(bytes32,bytes32,uint8)", ["bytes32", "bytes32", "uint8"], [job, result, 1])
    raw = sign(OWNER, 1, confirm, to=registry)
    chain.call("eth_sendRawTransaction", raw)
    receipt = chain.call("eth_getTransactionReceipt", tx_hash(raw))
    check(receipt["status"] == "0x1" and len(receipt["logs"]) == 1, "confirm is mined with one log")
    get = calldata("getConfirmation(bytes32)", ["bytes32"], [job])
    fields = abi.decode(["bytes32", "uint8", "uint256", "address"],
                        bytes.fromhex(chain.call("eth_call", {"to": registry, "data": get}, "latest")[2:]))
    check(fields == (result, 1, int(receipt["blockNumber"], 16), OWNER.address.lower()),
          "getConfirmation answers the hash, status, block and confirmator")
    topic = "0x" + keccak(text="JobConfirmed(bytes32,bytes32,uint8,address)").hex()
    logs = chain.call("eth_getLogs", {"address": registry, "fromBlock": "0x0", "toBlock": "latest",
                                      "topics": [topic, "0x" + job.hex()]})
    check(len(logs) == 1 and logs[0]["transactionHash"] == tx_hash(raw), "eth_getLogs filters by address and topics")
    check(chain.call("eth_getLogs", {"fromBlock": "0x0", "topics": [None, "0x" + keccak(text='x').hex()]}) == [],
          "a topic that matches nothing gives no logs")

    # Reverts: eth_call and eth_estimateGas answer code 3 with the reason and the raw data;
    # a reverting transaction is mined with status 0.
    err = chain.error("eth_call", {"from": OWNER.address, "to": registry, "data": confirm}, "latest")
    reason = abi.encode(["string"], ["job already confirmed"])
    check(err["code"] == 3 and err["message"] == "execution reverted: job already confirmed"
          and err["data"] == "0x08c379a0" + reason.hex(), "eth_call of a duplicate: code 3, reason, data")
    err = chain.error("eth_estimateGas", {"from": OWNER.address, "to": registry, "data": confirm})
    check(err["code"] == 3 and err["message"] == "execution reverted: job already confirmed",
          "eth_estimateGas of a duplicate: code 3 and the reason")
    err = chain.error("eth_call", {"from": OTHER.address, "to": registry,
                                   "data": calldata("confirm(bytes32,bytes32,uint8)", ["bytes32", "bytes32", "uint8"],
                                                    [keccak(text="job-2"), result, 1])})
    check(err["message"] == "execution reverted: not a confirmator", "an unauthorized sender is refused")
    raw = sign(OWNER, 2, confirm, to=registry, gas=100_000)
    chain.call("eth_sendRawTransaction", raw)
    check(chain.call("eth_getTransactionReceipt", tx_hash(raw))["status"] == "0x0",
          "a reverting transaction is mined with status 0x0")

    # Refusals at submission.
    err = chain.error("eth_sendRawTransaction", raw)
    check("nonce too low" in err["message"], "a mined transaction sent again: nonce too low")
    err = chain.error("eth_sendRawTransaction", sign(UNFUNDED, 0, to=OWNER.address, gas=21_000))
    check(err["message"].startswith("insufficient funds for gas * price + value"), "an unfunded sender: insufficient funds")
    err = chain.error("eth_sendRawTransaction", sign(OWNER, 3, to=OTHER.address, gas=21_000, chain_id=1))
    check(err["message"] == "invalid chain id", "another chain's transaction: invalid chain id")
    legacy = sign(OTHER, 0, to=OWNER.address, gas=21_000, legacy=True)
    chain.call("eth_sendRawTransaction", legacy)
    check(chain.call("eth_getTransactionReceipt", tx_hash(legacy))["status"] == "0x1", "a legacy EIP-155 transaction is mined")
    found = chain.call("eth_getTransactionByHash", tx_hash(legacy))
    check(found["type"] == "0x0" and found["chainId"] == hex(CHAIN_ID) and found["from"] == OTHER.address.lower()
          and found["gasPrice"] == hex(2 * GWEI), "eth_getTransactionByHash of a legacy transaction")
    found = chain.call("eth_getTransactionByHash", tx_hash(deploy))
    check(found["type"] == "0x2" and found["to"] is None and found["nonce"] == "0x0" and found["blockNumber"] == "0x1"
          and found["maxPriorityFeePerGas"] == hex(GWEI) and found["input"] == ARTIFACT["bytecode"],
          "eth_getTransactionByHash of a mined type-2 transaction")

    # Stuck: below the priority-fee floor a transaction stays pending, and blocks its successors.
    chain.call("dev_setMinPriorityFee", hex(5 * GWEI))
    nonce = chain.number("eth_getTransactionCount", OWNER.address, "latest")
    stuck = sign(OWNER, nonce, to=OTHER.address, gas=21_000, tip=1 * GWEI, max_fee=3 * GWEI)
    chain.call("eth_sendRawTransaction", stuck)
    chain.call("evm_mine")
    check(chain.call("eth_getTransactionReceipt", tx_hash(stuck)) is None, "a stuck transaction has no receipt")
    pending = chain.call("eth_getTransactionByHash", tx_hash(stuck))
    check(pending is not None and pending["blockHash"] is None, "eth_getTransactionByHash shows it pending")
    check(chain.number("eth_getTransactionCount", OWNER.address, "pending") == nonce + 1
          and chain.number("eth_getTransactionCount", OWNER.address, "latest") == nonce,
          "the pending nonce counts it, the latest does not")
    err = chain.error("eth_sendRawTransaction", stuck)
    check(err["message"] == "already known", "the same transaction again: already known")
    underpriced = sign(OWNER, nonce, to=OTHER.address, gas=21_000, tip=1_090_000_000, max_fee=4 * GWEI)
    err = chain.error("eth_sendRawTransaction", underpriced)
    check(err["message"] == "replacement transaction underpriced", "a replacement with the tip raised 9%: underpriced")
    underpriced = sign(OWNER, nonce, to=OTHER.address, gas=21_000, tip=2 * GWEI, max_fee=3_200_000_000)
    err = chain.error("eth_sendRawTransaction", underpriced)
    check(err["message"] == "replacement transaction underpriced", "a replacement with the fee cap raised 6.7%: underpriced")
    replacement = sign(OWNER, nonce, to=OTHER.address, gas=21_000, tip=1_100_000_000, max_fee=3_300_000_000)
    chain.call("eth_sendRawTransaction", replacement)
    check(chain.call("eth_getTransactionByHash", tx_hash(stuck)) is None
          and chain.call("eth_getTransactionByHash", tx_hash(replacement)) is not None,
          "a replacement with both caps raised 10% takes the old one's place")
    check(chain.call("eth_getTransactionReceipt", tx_hash(replacement)) is None, "still under the floor: still stuck")
    above = sign(OWNER, nonce, to=OTHER.address, gas=21_000, tip=6 * GWEI, max_fee=8 * GWEI)
    chain.call("eth_sendRawTransaction", above)
    receipt = chain.call("eth_getTransactionReceipt", tx_hash(above))
    check(receipt is not None and receipt["status"] == "0x1", "a replacement above the floor is mined at once (automine)")
    check(chain.call("eth_getTransactionReceipt", tx_hash(replacement)) is None, "the replaced one never is")
    chain.call("dev_setMinPriorityFee", "0x0")

    # Dropped: with automine off the transaction waits; dropping it frees its nonce.
    chain.call("dev_setAutomine", False)
    nonce = chain.number("eth_getTransactionCount", OWNER.address, "latest")
    dropped = sign(OWNER, nonce, to=OTHER.address, gas=21_000)
    chain.call("eth_sendRawTransaction", dropped)
    check(chain.call("eth_getTransactionReceipt", tx_hash(dropped)) is None, "automine off: the transaction waits")
    chain.call("dev_dropPending")
    check(chain.call("eth_getTransactionByHash", tx_hash(dropped)) is None
          and chain.number("eth_getTransactionCount", OWNER.address, "pending") == nonce,
          "dev_dropPending: the transaction is unknown and its nonce free again")
    chain.call("evm_mine")
    check(chain.call("eth_getTransactionReceipt", tx_hash(dropped)) is None, "a dropped transaction is never mined")
    chain.call("eth_sendRawTransaction", dropped)  # it can be sent again
    later = sign(OWNER, nonce + 1, to=OTHER.address, gas=21_000)
    chain.call("eth_sendRawTransaction", later)
    head = chain.number("eth_blockNumber")
    chain.call("evm_mine", "0x3")
    check(chain.number("eth_blockNumber") == head + 3, "evm_mine 3 mines three blocks")
    r1 = chain.call("eth_getTransactionReceipt", tx_hash(dropped))
    r2 = chain.call("eth_getTransactionReceipt", tx_hash(later))
    check(r1["blockNumber"] == r2["blockNumber"] == hex(head + 1) and int(r1["transactionIndex"], 16) == 0,
          "pending transactions go into the first block, in nonce order")
    chain.call("dev_setAutomine", True)

    # A reorg: revert to a snapshot taken before the confirmation; it disappears, and the same
    # signed transaction can be mined again.
    snapshot = chain.call("evm_snapshot")
    head = chain.number("eth_blockNumber")
    nonce = chain.number("eth_getTransactionCount", OWNER.address, "latest")
    job3 = keccak(text="job-3")
    raw = sign(OWNER, nonce, calldata("confirm(bytes32,bytes32,uint8)", ["bytes32", "bytes32", "uint8"],
                                      [job3, result, 2]), to=registry)
    chain.call("eth_sendRawTransaction", raw)
    first = chain.call("eth_getTransactionReceipt", tx_hash(raw))
    chain.call("evm_mine", "0x2")
    check(first is not None and chain.number("eth_blockNumber") == head + 3, "confirmed, then two more blocks")
    check(chain.call("evm_revert", snapshot) is True, "evm_revert answers true")
    check(chain.number("eth_blockNumber") == head, "evm_revert: the head is back at the snapshot's block")
    check(chain.call("eth_getTransactionReceipt", tx_hash(raw)) is None
          and chain.call("eth_getTransactionByHash", tx_hash(raw)) is None, "evm_revert: the receipt is gone")
    get3 = calldata("getConfirmation(bytes32)", ["bytes32"], [job3])
    check(chain.call("eth_call", {"to": registry, "data": get3}, "latest") == "0x" + "00" * 128,
          "evm_revert: the confirmation is gone from the state")
    check(chain.call("eth_getLogs", {"fromBlock": hex(head + 1), "toBlock": "latest"}) == [],
          "evm_revert: its logs are gone")
    check(chain.call("eth_getBlockByNumber", hex(head + 1), False) is None, "evm_revert: the later blocks are gone")
    check(chain.call("evm_revert", snapshot) is False, "a snapshot is used up by reverting to it")
    chain.call("evm_mine")  # the new branch gets a different block at the old height
    chain.call("eth_sendRawTransaction", raw)
    second = chain.call("eth_getTransactionReceipt", tx_hash(raw))
    check(second["status"] == "0x1" and second["blockHash"] != first["blockHash"],
          "the same confirmation is mined again on the new branch")

    # An outage that keeps the chain: refused while offline, the same chain after.
    head = chain.number("eth_blockNumber")
    check(chain.call("dev_goOffline", 1) is True, "dev_goOffline answers before going offline")
    time.sleep(0.2)
    try:
        chain.call("eth_blockNumber")
        refused = False
    except (urllib.error.URLError, ConnectionError):
        refused = True
    check(refused, "offline: a request fails to connect")
    time.sleep(1.2)
    check(chain.number("eth_blockNumber") == head, "back on the same port with the same chain")

    # Fee data the client prices transactions with.
    history = chain.call("eth_feeHistory", "0x4", "latest", [25, 75])
    check(len(history["baseFeePerGas"]) == 5 and len(history["reward"]) == 4 and len(history["reward"][0]) == 2,
          "eth_feeHistory: count+1 base fees and a reward per block and percentile")
    check(chain.number("eth_maxPriorityFeePerGas") > 0 and chain.number("eth_gasPrice") > 0, "fee suggestions")


if __name__ == "__main__":
    main()
