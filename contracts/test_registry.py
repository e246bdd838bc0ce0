"""Tests of the JobsRegistry contract on eth-tester's py-evm backend, from the committed
artifact (contracts/JobsRegistry.json, which `compile.py --check` keeps equal to the source),
and the gas it costs: deployment, one confirm, and batches of 1, 10 and 100 jobs.

    .build-chain-venv/bin/python contracts/test_registry.py

Exits non-zero at the first failed check.
"""

import json
from pathlib import Path

from eth_abi import abi
from eth_tester import EthereumTester, PyEVMBackend
from eth_tester.exceptions import TransactionFailed
from eth_utils import keccak

ARTIFACT = json.loads((Path(__file__).resolve().parent / "JobsRegistry.json").read_text())
ZERO_ADDRESS = "0x" + "00" * 20
SUCCEEDED, FAILED = 1, 2


def check(condition, what):
    if not condition:
        raise AssertionError(what)
    print(f"ok  {what}")


def job_id(label):
    return keccak(text=f"job {label}")


def result_hash(label):
    return keccak(text=f"result {label}")


class Registry:
    """The deployed contract, called through eth-tester (each transaction is mined at once)."""

    def __init__(self, tester, deployer):
        self.t = tester
        tx = self.t.send_transaction({"from": deployer, "data": ARTIFACT["bytecode"], "gas": 2_000_000})
        self.deploy_receipt = self.t.get_transaction_receipt(tx)
        self.address = self.deploy_receipt["contract_address"]

    @staticmethod
    def calldata(signature, types, values):
        return "0x" + (keccak(text=signature)[:4] + abi.encode(types, values)).hex()

    def send(self, sender, signature, types, values, gas=None):
        """Sends a transaction; returns its receipt (status 0 if it reverted)."""
        tx = {"from": sender, "to": self.address, "data": self.calldata(signature, types, values)}
        tx["gas"] = gas or 29_000_000
        return self.t.get_transaction_receipt(self.t.send_transaction(tx))

    def call(self, signature, types, values, returns):
        # eth-tester charges a call's gas to its sender, so reads come from a funded account.
        out = self.t.call({"from": self.t.get_accounts()[-1], "to": self.address, "data": self.calldata(signature, types, values)})
        return abi.decode(returns, bytes.fromhex(out[2:]))

    def revert_reason(self, sender, signature, types, values):
        """The reason an eth_call of the function reverts with (None if it does not)."""
        try:
            self.t.call({"from": sender, "to": self.address, "data": self.calldata(signature, types, values)})
        except TransactionFailed as e:
            return str(e.args[0]) if e.args else ""
        return None

    # The functions, by their canonical signatures (what the Swift side computes selectors from).
    def confirm(self, sender, job, result, status, **kw):
        return self.send(sender, "confirm(bytes32,bytes32,uint8)", ["bytes32", "bytes32", "uint8"], [job, result, status], **kw)

    def confirm_reason(self, sender, job, result, status):
        return self.revert_reason(sender, "confirm(bytes32,bytes32,uint8)", ["bytes32", "bytes32", "uint8"], [job, result, status])

    BATCH = ("confirmBatch(bytes32[],bytes32[],uint8[])", ["bytes32[]", "bytes32[]", "uint8[]"])

    def confirm_batch(self, sender, jobs, results, statuses, **kw):
        return self.send(sender, *self.BATCH, [jobs, results, statuses], **kw)

    def batch_reason(self, sender, jobs, results, statuses):
        return self.revert_reason(sender, *self.BATCH, [jobs, results, statuses])

    def get_confirmation(self, job):
        return self.call("getConfirmation(bytes32)", ["bytes32"], [job], ["bytes32", "uint8", "uint256", "address"])

    def owner(self):
        return self.call("owner()", [], [], ["address"])[0]

    def is_confirmator(self, account):
        return self.call("isConfirmator(address)", ["address"], [account], ["bool"])[0]


def topic(signature):
    return "0x" + keccak(text=signature).hex()


def main():
    t = EthereumTester(PyEVMBackend())
    owner, confirmator, stranger, newcomer = t.get_accounts()[:4]
    reg = Registry(t, owner)
    gas = {"deploy": reg.deploy_receipt["gas_used"]}

    # Deployment: the deployer owns the registry and is its first confirmator.
    check(reg.deploy_receipt["status"] == 1, "deploys from the artifact")
    check(t.get_code(reg.address) == ARTIFACT["deployedBytecode"], "the deployed code is the artifact's deployedBytecode")
    check(reg.owner() == owner.lower(), "owner() is the deployer")
    check(reg.is_confirmator(owner) and not reg.is_confirmator(stranger), "the deployer is a confirmator, others are not")
    logs = reg.deploy_receipt["logs"]
    check(len(logs) == 1 and logs[0]["topics"][0] == topic("ConfirmatorAdded(address)"),
          "the deployment emits ConfirmatorAdded for the deployer")

    # Confirmator management is the owner's.
    reason = reg.revert_reason(stranger, "addConfirmator(address)", ["address"], [stranger])
    check(reason == "only owner", "addConfirmator by another account reverts: only owner")
    reason = reg.revert_reason(stranger, "removeConfirmator(address)", ["address"], [owner])
    check(reason == "only owner", "removeConfirmator by another account reverts: only owner")
    reason = reg.revert_reason(stranger, "transferOwnership(address)", ["address"], [stranger])
    check(reason == "only owner", "transferOwnership by another account reverts: only owner")
    receipt = reg.send(owner, "addConfirmator(address)", ["address"], [confirmator])
    check(receipt["status"] == 1 and reg.is_confirmator(confirmator), "the owner adds a confirmator")
    check(receipt["logs"][0]["topics"] == [topic("ConfirmatorAdded(address)"), "0x" + "00" * 12 + confirmator[2:].lower()],
          "ConfirmatorAdded names the account in an indexed topic")

    # confirm
    job, result = job_id(1), result_hash(1)
    check(reg.get_confirmation(job) == (bytes(32), 0, 0, ZERO_ADDRESS), "an unconfirmed job reads as all zero")
    receipt = reg.confirm(confirmator, job, result, SUCCEEDED, gas=200_000)
    gas["confirm"] = receipt["gas_used"]
    check(receipt["status"] == 1, "a confirmator confirms a job")
    check(reg.get_confirmation(job) == (result, SUCCEEDED, receipt["block_number"], confirmator.lower()),
          "getConfirmation answers the result hash, status, block number and confirmator")
    (log,) = receipt["logs"]
    check(log["topics"] == [topic("JobConfirmed(bytes32,bytes32,uint8,address)"), "0x" + job.hex()],
          "JobConfirmed has the job id as its indexed topic")
    check(abi.decode(["bytes32", "uint8", "address"], bytes.fromhex(log["data"][2:])) == (result, SUCCEEDED, confirmator.lower()),
          "JobConfirmed's data holds the result hash, status and confirmator")
    check(reg.confirm_reason(owner, job, result_hash(2), FAILED) == "job already confirmed",
          "a second confirmation of a job reverts: job already confirmed")
    check(reg.confirm(owner, job, result_hash(2), FAILED, gas=200_000)["status"] == 0
          and reg.get_confirmation(job)[0] == result, "a second confirmation sent anyway fails and changes nothing")
    check(reg.confirm_reason(stranger, job_id(2), result, SUCCEEDED) == "not a confirmator",
          "an unauthorized sender reverts: not a confirmator")
    check(reg.confirm_reason(owner, job_id(2), result, 0) == "invalid status"
          and reg.confirm_reason(owner, job_id(2), result, 3) == "invalid status", "status 0 and 3 revert: invalid status")
    receipt = reg.confirm(owner, job_id(2), result_hash(2), FAILED)
    check(reg.get_confirmation(job_id(2))[1] == FAILED, "a failed job is confirmed with status 2")

    # Removing a confirmator and handing over ownership.
    receipt = reg.send(owner, "removeConfirmator(address)", ["address"], [confirmator])
    check(receipt["logs"][0]["topics"][0] == topic("ConfirmatorRemoved(address)") and not reg.is_confirmator(confirmator),
          "the owner removes a confirmator (ConfirmatorRemoved)")
    check(reg.confirm_reason(confirmator, job_id(3), result, SUCCEEDED) == "not a confirmator",
          "a removed confirmator is refused")
    check(reg.revert_reason(owner, "transferOwnership(address)", ["address"], [ZERO_ADDRESS]) == "zero address",
          "ownership cannot go to the zero address")
    reg.send(owner, "transferOwnership(address)", ["address"], [newcomer])
    check(reg.owner() == newcomer.lower(), "transferOwnership hands the registry over")
    check(reg.revert_reason(owner, "addConfirmator(address)", ["address"], [stranger]) == "only owner",
          "the old owner no longer manages confirmators")
    reg.send(newcomer, "addConfirmator(address)", ["address"], [confirmator])

    # confirmBatch
    jobs = [job_id(f"b{i}") for i in range(3)]
    results = [result_hash(f"b{i}") for i in range(3)]
    check(reg.batch_reason(owner, [], [], []) == "empty batch", "an empty batch reverts")
    check(reg.batch_reason(owner, jobs, results[:2], [1, 1, 1]) == "length mismatch"
          and reg.batch_reason(owner, jobs, results, [1, 1]) == "length mismatch", "unequal lengths revert: length mismatch")
    check(reg.batch_reason(stranger, jobs, results, [1, 2, 1]) == "not a confirmator", "a batch from a stranger reverts")
    check(reg.batch_reason(owner, [jobs[0], job], results[:2], [1, 1]) == "job already confirmed",
          "a batch with a confirmed job reverts: job already confirmed")
    receipt = reg.confirm_batch(owner, jobs + [jobs[1]], results + [results[1]], [1, 2, 1, 1], gas=500_000)
    check(receipt["status"] == 0 and all(reg.get_confirmation(j)[1] == 0 for j in jobs),
          "a batch repeating a job fails as a whole: none of its jobs is confirmed")
    check(reg.batch_reason(owner, jobs, results, [1, 0, 1]) == "invalid status", "an invalid status in a batch reverts")
    receipt = reg.confirm_batch(confirmator, jobs, results, [1, 2, 1])
    check(receipt["status"] == 1 and len(receipt["logs"]) == 3, "a batch confirms every job, one JobConfirmed each")
    check([reg.get_confirmation(j) for j in jobs] ==
          [(r, s, receipt["block_number"], confirmator.lower()) for r, s in zip(results, [1, 2, 1])],
          "each job of the batch reads back with its own hash and status")
    too_many = [job_id(f"x{i}") for i in range(129)]
    check(reg.batch_reason(owner, too_many, too_many, [1] * 129) is not None, "a batch of 129 jobs is refused")

    # Gas: fresh job ids each time (a confirmation always writes two new storage slots).
    for n in (1, 10, 100):
        ids = [job_id(f"gas{n}-{i}") for i in range(n)]
        receipt = reg.confirm_batch(owner, ids, [result_hash(i) for i in range(n)], [SUCCEEDED] * n)
        check(receipt["status"] == 1, f"a batch of {n} is confirmed")
        gas[f"confirmBatch({n})"] = receipt["gas_used"]

    print("gas used:")
    print(f"  deploy              {gas['deploy']:>9,}")
    print(f"  confirm             {gas['confirm']:>9,}")
    for n in (1, 10, 100):
        total = gas[f"confirmBatch({n})"]
        print(f"  confirmBatch({n:>3})   {total:>9,}  ({total / n:,.0f} a job)")
    print("registry tests passed")


if __name__ == "__main__":
    main()
