"""A local Ethereum dev chain for tests: JSON-RPC 2.0 over HTTP on loopback, executing
transactions on a real EVM (py-evm, through eth-tester's PyEVMBackend; Prague rules, so
EIP-1559 base fees and type-2 transactions work as on mainnet).

Run it through the wrapper, which makes the pinned Python environment first:

    scripts/devchain --port 0 --fund 0xADDRESS[:WEI] ...

What it adds to the bare EVM is a mempool that behaves like geth's, because the confirmer's
fault handling is tested against it: transactions are keyed by (sender, nonce), executed in
nonce order, refused with geth's error messages ("nonce too low", "already known",
"replacement transaction underpriced", "insufficient funds for gas * price + value",
"invalid chain id"), and a same-nonce transaction replaces a pending one only with both fee
caps raised by at least 10%. Test controls make the faults on demand:

    dev_setAutomine(bool)        on (default): each executable transaction is mined in its own
                                 block on arrival; off: transactions wait for evm_mine
    dev_setMinPriorityFee(wei)   transactions with a lower max priority fee are not mined:
                                 they stay pending ("stuck") until replaced or the floor drops
                                 (turning automine on or lowering the floor mines nothing by
                                 itself: the next transaction received or evm_mine does)
    dev_dropPending()            empties the mempool ("dropped": no receipt, nonce free again)
    dev_goOffline(seconds)       an RPC outage: connections are refused for that long, then it
                                 serves again on the same port with the same chain (the chain
                                 lives in memory, so restarting the process would lose it)
    evm_mine([count])            mines count blocks (default 1), pending transactions in the first
    evm_snapshot / evm_revert    the head goes back to the snapshot's block, and the mempool to
                                 its content then: later blocks, receipts and logs disappear,
                                 which is how tests make a reorg. Like Hardhat, reverting to a
                                 snapshot consumes it and every later one.

One lock serializes every request, so the chain is never seen half-updated.
"""

import argparse
import json
import sys
import threading
import time
import traceback
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import rlp
from eth._utils.address import generate_contract_address
from eth.exceptions import Revert
from eth.vm.spoof import SpoofTransaction
from eth_abi import abi
from eth_tester.backends.pyevm.main import PyEVMBackend
from eth_utils import to_canonical_address

ETHER = 10**18
GWEI = 10**9
DEFAULT_FUND = 1000 * ETHER
# What eth_maxPriorityFeePerGas suggests. It deliberately ignores dev_setMinPriorityFee: a test
# raises the floor above what clients pay to make their transactions stuck.
SUGGESTED_TIP = 1 * GWEI
# geth's default price bump for a replacement (txpool.pricebump).
PRICE_BUMP_PERCENT = 10
ERROR_SELECTOR = bytes.fromhex("08c379a0")  # Error(string), what `assert x, "reason"` reverts with
ZERO_ADDRESS = bytes(20)


class RpcError(Exception):
    """A JSON-RPC error answer. -32000 is what geth uses for transaction-pool refusals."""

    def __init__(self, message, code=-32000, data=None):
        super().__init__(message)
        self.code, self.message, self.data = code, message, data


# ---- JSON shapes -------------------------------------------------------------------------

def qty(n):
    return hex(n)


def data(b):
    return "0x" + bytes(b).hex()


def addr(b):
    return None if b is None or b == b"" else data(b)


def h32(n_or_bytes):
    if isinstance(n_or_bytes, int):
        return data(n_or_bytes.to_bytes(32, "big"))
    return data(n_or_bytes)


def parse_qty(v, name="quantity"):
    if isinstance(v, int) and not isinstance(v, bool):
        return v
    if isinstance(v, str) and v.startswith("0x"):
        try:
            return int(v, 16)
        except ValueError:
            pass
    raise RpcError(f"invalid {name}: {v!r}", -32602)


def parse_data(v, name="data"):
    if not isinstance(v, str) or not v.startswith("0x") or len(v) % 2:
        raise RpcError(f"invalid {name}: {v!r}", -32602)
    try:
        return bytes.fromhex(v[2:])
    except ValueError:
        raise RpcError(f"invalid {name}: {v!r}", -32602) from None


def parse_address(v, name="address"):
    b = parse_data(v, name)
    if len(b) != 20:
        raise RpcError(f"invalid {name}: {v!r}", -32602)
    return b


# ---- transactions ------------------------------------------------------------------------

@dataclass
class PoolTx:
    """A transaction the mempool holds, with what the pool rules need decoded once."""
    tx: object  # py-evm signed transaction
    sender: bytes
    arrival: int

    @property
    def hash(self):
        return self.tx.hash

    @property
    def nonce(self):
        return self.tx.nonce

    @property
    def is_typed(self):
        return getattr(self.tx, "type_id", None) is not None  # legacy transactions: None

    @property
    def max_fee(self):
        return self.tx.max_fee_per_gas if self.is_typed else self.tx.gas_price

    @property
    def max_tip(self):
        return self.tx.max_priority_fee_per_gas if self.is_typed else self.tx.gas_price

    def effective_price(self, base_fee):
        return min(self.max_fee, base_fee + self.max_tip)


@dataclass
class Mined:
    """Where a mined transaction landed, and its receipt, for lookups by hash and for logs."""
    ptx: PoolTx
    block_number: int
    block_hash: bytes
    index: int
    receipt: dict


class DevChain:
    def __init__(self, chain_id, funds):
        genesis_state = {
            to_canonical_address(a): {"balance": wei, "nonce": 0, "code": b"", "storage": {}}
            for a, wei in funds.items()
        }
        self.backend = PyEVMBackend(genesis_state=genesis_state)
        # eth-tester's chain class is made per backend, with its own chain id; every VM the
        # chain builds (so the CHAINID opcode and signatures) reads it from the class.
        type(self.backend.chain).chain_id = chain_id
        self.chain_id = chain_id
        self.pool = {}  # (sender, nonce) -> PoolTx
        self.mined = {}  # tx hash -> Mined, canonical blocks only
        self.block_txs = {}  # block hash -> [Mined], for logs and fee history
        self.automine = True
        self.min_tip = 0
        self.arrivals = 0
        self.snapshots = []  # [(id, block hash, pool copy)]
        self.next_snapshot = 1

    @property
    def chain(self):
        return self.backend.chain  # replaced by a revert to genesis, so never cached

    # -- blocks and state --

    def head_number(self):
        return self.chain.get_block().number - 1  # chain.get_block() is the block being built

    def header(self, number):
        return self.chain.get_canonical_block_header_by_number(number)

    def block_number(self, tag):
        """The number a block parameter names; "pending" reads as latest, because a pending
        transaction is applied only when it is mined."""
        head = self.head_number()
        if isinstance(tag, dict):  # EIP-1898
            if "blockHash" in tag:
                return self.block_by_hash(parse_data(tag["blockHash"], "blockHash")).number
            tag = tag.get("blockNumber", "latest")
        if tag in (None, "latest", "pending", "safe", "finalized"):
            return head
        if tag == "earliest":
            return 0
        n = parse_qty(tag, "block number")
        if n > head:
            raise RpcError("header not found")
        return n

    def block_by_hash(self, block_hash):
        try:
            block = self.chain.get_block_by_hash(block_hash)
        except Exception:
            raise RpcError("header not found") from None
        if block.number > self.head_number() or self.header(block.number).hash != block_hash:
            raise RpcError("header not found")  # not (or no longer) canonical
        return block

    def state_at(self, tag):
        return self.chain.get_vm(at_header=self.header(self.block_number(tag))).state

    def next_base_fee(self):
        return self.chain.header.base_fee_per_gas

    # -- the mempool --

    def pending_nonce(self, sender):
        nonce = self.state_at("latest").get_nonce(sender)
        while (sender, nonce) in self.pool:
            nonce += 1
        return nonce

    def send_raw(self, raw):
        try:
            tx = self.chain.get_vm().get_transaction_builder().decode(raw)
        except Exception as e:
            raise RpcError(f"invalid transaction: {e}") from None
        try:
            tx.check_signature_validity()
            sender = tx.sender
        except Exception:
            raise RpcError("invalid sender") from None
        tx_chain_id = getattr(tx, "chain_id", None)
        if tx_chain_id is None:
            raise RpcError("only replay-protected (EIP-155) transactions allowed over RPC")
        if tx_chain_id != self.chain_id:
            raise RpcError("invalid chain id")
        ptx = PoolTx(tx, sender, self.arrivals)
        if any(p.hash == tx.hash for p in self.pool.values()):
            raise RpcError("already known")
        state = self.state_at("latest")
        state_nonce = state.get_nonce(sender)
        if tx.nonce < state_nonce:
            raise RpcError(f"nonce too low: address {data(sender)}, tx: {tx.nonce} state: {state_nonce}")
        if tx.gas > self.chain.header.gas_limit:
            raise RpcError("exceeds block gas limit")
        if tx.gas < tx.intrinsic_gas:
            raise RpcError(f"intrinsic gas too low: gas {tx.gas}, minimum needed {tx.intrinsic_gas}")
        if ptx.max_tip > ptx.max_fee:
            raise RpcError("max priority fee per gas higher than max fee per gas")
        cost = tx.gas * ptx.max_fee + tx.value
        balance = state.get_balance(sender)
        if balance < cost:
            raise RpcError(f"insufficient funds for gas * price + value: address {data(sender)} "
                           f"have {balance} want {cost}")
        old = self.pool.get((sender, tx.nonce))
        if old is not None:
            # geth's rule: both caps strictly higher, and each at least the bump above the old.
            bump = 100 + PRICE_BUMP_PERCENT
            if (ptx.max_fee <= old.max_fee or ptx.max_tip <= old.max_tip
                    or ptx.max_fee < old.max_fee * bump // 100
                    or ptx.max_tip < old.max_tip * bump // 100):
                raise RpcError("replacement transaction underpriced")
        self.arrivals += 1
        self.pool[(sender, tx.nonce)] = ptx
        if self.automine:
            while self.next_executable() is not None:
                self.mine_block(one_transaction=True)
        return tx.hash

    def next_executable(self):
        """The pending transaction to execute next: per sender only the one at the sender's
        current nonce, and only if it pays the base fee and the tip floor; across senders the
        highest tip first, then the earliest arrival."""
        base_fee = self.next_base_fee()
        state = self.chain.get_vm().state  # includes what the block being built already ran
        best = None
        nonces = {}
        for (sender, nonce), ptx in self.pool.items():
            if sender not in nonces:
                nonces[sender] = state.get_nonce(sender)
            if nonce != nonces[sender] or ptx.max_fee < base_fee or ptx.max_tip < self.min_tip:
                continue
            key = (-ptx.effective_price(base_fee), ptx.arrival)
            if best is None or key < best[0]:
                best = (key, ptx)
        return None if best is None else best[1]

    def mine_block(self, one_transaction=False, include_pending=True):
        chain = self.chain
        applied = []
        while include_pending:
            ptx = self.next_executable()
            if ptx is None or ptx.tx.gas > chain.header.gas_limit - chain.header.gas_used:
                break
            del self.pool[(ptx.sender, ptx.nonce)]
            try:
                chain.apply_transaction(ptx.tx)
            except Exception as e:  # no longer valid (say, the balance went): geth evicts it
                print(f"devchain: dropped {data(ptx.hash)}: {e}", file=sys.stderr)
                continue
            applied.append(ptx)
            if one_transaction:
                break
        (block_hash,) = self.backend.mine_blocks(1)
        self.record_block(block_hash, applied)
        return block_hash

    def record_block(self, block_hash, applied):
        chain = self.chain
        block = chain.get_block_by_hash(block_hash)
        receipts = block.get_receipts(chain.chaindb)
        base_fee = block.header.base_fee_per_gas
        by_hash = {p.hash: p for p in applied}
        entries = []
        log_index = 0
        previous_cumulative = 0
        for i, (tx, r) in enumerate(zip(block.transactions, receipts)):
            ptx = by_hash[tx.hash]
            logs = []
            for log in r.logs:
                logs.append({
                    "address": data(log.address),
                    "topics": [h32(t) for t in log.topics],
                    "data": data(log.data),
                    "blockNumber": qty(block.number),
                    "blockHash": data(block_hash),
                    "transactionHash": data(tx.hash),
                    "transactionIndex": qty(i),
                    "logIndex": qty(log_index),
                    "removed": False,
                })
                log_index += 1
            receipt = {
                "transactionHash": data(tx.hash),
                "transactionIndex": qty(i),
                "blockHash": data(block_hash),
                "blockNumber": qty(block.number),
                "from": data(ptx.sender),
                "to": addr(tx.to),
                "cumulativeGasUsed": qty(r.gas_used),
                "gasUsed": qty(r.gas_used - previous_cumulative),
                "effectiveGasPrice": qty(ptx.effective_price(base_fee)),
                "contractAddress": data(generate_contract_address(ptx.sender, tx.nonce)) if tx.to == b"" else None,
                "logs": logs,
                "logsBloom": data(r.bloom.to_bytes(256, "big")),
                "status": "0x1" if r.state_root == b"\x01" else "0x0",
                "type": qty(getattr(tx, "type_id", None) or 0),
            }
            previous_cumulative = r.gas_used
            m = Mined(ptx, block.number, block_hash, i, receipt)
            self.mined[tx.hash] = m
            entries.append(m)
        self.block_txs[block_hash] = entries

    # -- snapshots --

    def snapshot(self):
        sid = self.next_snapshot
        self.next_snapshot += 1
        self.snapshots.append((sid, self.header(self.head_number()).hash, dict(self.pool)))
        return sid

    def revert(self, sid):
        found = [i for i, s in enumerate(self.snapshots) if s[0] == sid]
        if not found:
            return False
        _, block_hash, pool = self.snapshots[found[0]]
        del self.snapshots[found[0]:]
        number = self.chain.get_block_by_hash(block_hash).number
        self.backend.revert_to_snapshot(block_hash)
        type(self.backend.chain).chain_id = self.chain_id  # a revert to genesis rebuilds the chain
        self.pool = pool
        # The blocks after the snapshot's stay in the database but are no longer canonical;
        # what they mined must no longer be found.
        self.mined = {h: m for h, m in self.mined.items() if m.block_number <= number}
        self.block_txs = {h: e for h, e in self.block_txs.items()
                          if self.chain.get_block_header_by_hash(h).block_number <= number}
        return True

    # -- calls --

    def call_message(self, call, tag, estimate=False):
        """Runs a call on the state of block `tag` without fees (like geth's eth_call, which
        sets the base fee to zero), and returns the gas needed (estimate) or the output."""
        sender = parse_address(call["from"], "from") if call.get("from") else ZERO_ADDRESS
        to = parse_address(call["to"], "to") if call.get("to") else b""
        payload = call.get("input", call.get("data")) or "0x"
        header = self.header(self.block_number(tag))
        vm = self.chain.get_vm(at_header=header)
        gas = parse_qty(call["gas"], "gas") if call.get("gas") else header.gas_limit
        unsigned = vm.get_transaction_builder().new_unsigned_dynamic_fee_transaction(
            chain_id=self.chain_id,
            nonce=vm.state.get_nonce(sender),
            max_priority_fee_per_gas=0,
            max_fee_per_gas=0,
            gas=gas,
            to=to,
            value=parse_qty(call.get("value") or "0x0", "value"),
            data=parse_data(payload, "input"),
            access_list=(),
        )
        tx = SpoofTransaction(unsigned, from_=sender)
        if estimate:
            try:
                return self.chain.estimate_gas(tx, at_header=header)
            except Revert as e:
                raise revert_error(e.args[0] if e.args else b"") from None
            except Exception as e:
                raise RpcError(f"gas required exceeds allowance ({gas}): {e}") from None
        with vm.in_costless_state() as state:
            try:
                computation = state.apply_transaction(tx)
            except Exception as e:
                raise RpcError(str(e)) from None
        if computation.is_error:
            if isinstance(computation.error, Revert):
                raise revert_error(computation.output)
            raise RpcError(str(computation.error) or type(computation.error).__name__)
        return computation.output


def revert_error(output):
    """geth's answer to a reverted call: code 3, the reason in the message, the raw revert
    data in `data`."""
    output = bytes(output)
    message = "execution reverted"
    if output[:4] == ERROR_SELECTOR:
        try:
            message += ": " + abi.decode(["string"], output[4:])[0]
        except Exception:
            pass
    return RpcError(message, 3, data(output))


# ---- the JSON-RPC methods --------------------------------------------------------------

class Api:
    def __init__(self, dev):
        self.dev = dev

    def eth_chainId(self):
        return qty(self.dev.chain_id)

    def net_version(self):
        return str(self.dev.chain_id)

    def web3_clientVersion(self):
        return "fhe-jobs-devchain/1 (eth-tester, py-evm)"

    def eth_accounts(self):
        return []  # the dev chain holds no keys: clients sign their transactions

    def eth_syncing(self):
        return False

    def eth_blockNumber(self):
        return qty(self.dev.head_number())

    def eth_getBalance(self, address, tag="latest"):
        return qty(self.dev.state_at(tag).get_balance(parse_address(address)))

    def eth_getTransactionCount(self, address, tag="latest"):
        sender = parse_address(address)
        if tag == "pending":
            return qty(self.dev.pending_nonce(sender))
        return qty(self.dev.state_at(tag).get_nonce(sender))

    def eth_getCode(self, address, tag="latest"):
        return data(self.dev.state_at(tag).get_code(parse_address(address)))

    def eth_getStorageAt(self, address, slot, tag="latest"):
        value = self.dev.state_at(tag).get_storage(parse_address(address), parse_qty(slot, "slot"))
        return h32(value)

    def eth_gasPrice(self):
        return qty(self.dev.next_base_fee() + SUGGESTED_TIP)

    def eth_maxPriorityFeePerGas(self):
        return qty(SUGGESTED_TIP)

    def eth_feeHistory(self, block_count, newest="latest", percentiles=None):
        count = max(1, min(parse_qty(block_count, "blockCount"), 1024))
        newest_n = self.dev.block_number(newest)
        oldest = max(0, newest_n - count + 1)
        base_fees, ratios, rewards = [], [], []
        for n in range(oldest, newest_n + 1):
            header = self.dev.header(n)
            base_fees.append(qty(header.base_fee_per_gas))
            ratios.append(header.gas_used / header.gas_limit)
            if percentiles is not None:
                tips = sorted(m.ptx.effective_price(header.base_fee_per_gas) - header.base_fee_per_gas
                              for m in self.dev.block_txs.get(header.hash, []))
                rewards.append([qty(tips[min(len(tips) - 1, int(len(tips) * p / 100))] if tips else 0)
                                for p in percentiles])
        # The base fee of the block after the newest, as geth appends it.
        if newest_n == self.dev.head_number():
            base_fees.append(qty(self.dev.next_base_fee()))
        else:
            base_fees.append(qty(self.dev.header(newest_n + 1).base_fee_per_gas))
        result = {"oldestBlock": qty(oldest), "baseFeePerGas": base_fees, "gasUsedRatio": ratios}
        if percentiles is not None:
            result["reward"] = rewards
        return result

    def eth_getBlockByNumber(self, tag, full=False):
        if tag == "pending":
            return self.block_json(None, full)
        try:
            n = self.dev.block_number(tag)
        except RpcError:
            return None
        return self.block_json(self.dev.chain.get_canonical_block_by_number(n), full)

    def eth_getBlockByHash(self, block_hash, full=False):
        try:
            return self.block_json(self.dev.block_by_hash(parse_data(block_hash, "blockHash")), full)
        except RpcError:
            return None

    def block_json(self, block, full):
        if block is None:  # the pending block: what the next block will look like
            header = self.dev.chain.header
            return {"number": qty(header.block_number), "hash": None, "parentHash": data(header.parent_hash),
                    "timestamp": qty(header.timestamp), "baseFeePerGas": qty(header.base_fee_per_gas),
                    "gasLimit": qty(header.gas_limit), "gasUsed": "0x0", "miner": None,
                    "transactions": [], "uncles": []}
        h = block.header
        txs = self.dev.block_txs.get(h.hash, [])
        return {
            "number": qty(h.block_number),
            "hash": data(h.hash),
            "parentHash": data(h.parent_hash),
            "nonce": data(h.nonce),
            "mixHash": data(h.mix_hash),
            "sha3Uncles": data(h.uncles_hash),
            "logsBloom": data(h.bloom.to_bytes(256, "big")),
            "transactionsRoot": data(h.transaction_root),
            "stateRoot": data(h.state_root),
            "receiptsRoot": data(h.receipt_root),
            "miner": data(h.coinbase),
            "difficulty": qty(h.difficulty),
            "totalDifficulty": "0x0",
            "extraData": data(h.extra_data),
            "size": qty(len(rlp.encode(block))),
            "gasLimit": qty(h.gas_limit),
            "gasUsed": qty(h.gas_used),
            "timestamp": qty(h.timestamp),
            "baseFeePerGas": qty(h.base_fee_per_gas),
            "transactions": [self.tx_json(m.ptx, m) if full else data(m.ptx.hash) for m in txs],
            "uncles": [],
        }

    def tx_json(self, ptx, mined=None):
        tx = ptx.tx
        j = {
            "hash": data(tx.hash),
            "nonce": qty(tx.nonce),
            "blockHash": data(mined.block_hash) if mined else None,
            "blockNumber": qty(mined.block_number) if mined else None,
            "transactionIndex": qty(mined.index) if mined else None,
            "from": data(ptx.sender),
            "to": addr(tx.to),
            "value": qty(tx.value),
            "gas": qty(tx.gas),
            "input": data(tx.data),
            "type": qty(getattr(tx, "type_id", None) or 0),
            "v": qty(tx.y_parity if ptx.is_typed else tx.v),
            "r": qty(tx.r),
            "s": qty(tx.s),
        }
        if mined:
            j["gasPrice"] = qty(ptx.effective_price(self.dev.header(mined.block_number).base_fee_per_gas))
        else:
            j["gasPrice"] = qty(ptx.max_fee)
        if ptx.is_typed:
            j.update(chainId=qty(tx.chain_id), maxFeePerGas=qty(ptx.max_fee),
                     maxPriorityFeePerGas=qty(ptx.max_tip), yParity=qty(tx.y_parity),
                     accessList=[{"address": data(a), "storageKeys": [h32(k) for k in keys]}
                                 for a, keys in tx.access_list])
        elif tx.chain_id is not None:
            j["chainId"] = qty(tx.chain_id)
        return j

    def eth_getTransactionByHash(self, tx_hash):
        h = parse_data(tx_hash, "hash")
        m = self.dev.mined.get(h)
        if m:
            return self.tx_json(m.ptx, m)
        for ptx in self.dev.pool.values():
            if ptx.hash == h:
                return self.tx_json(ptx)
        return None

    def eth_getTransactionReceipt(self, tx_hash):
        m = self.dev.mined.get(parse_data(tx_hash, "hash"))
        return m.receipt if m else None

    def eth_sendRawTransaction(self, raw):
        return data(self.dev.send_raw(parse_data(raw, "transaction")))

    def eth_call(self, call, tag="latest"):
        return data(self.dev.call_message(call, tag))

    def eth_estimateGas(self, call, tag="latest"):
        return qty(self.dev.call_message(call, tag, estimate=True))

    def eth_getLogs(self, flt):
        dev = self.dev
        if flt.get("blockHash"):
            first = last = dev.block_by_hash(parse_data(flt["blockHash"], "blockHash")).number
        else:
            # A range reaching past the head stops at the head, and one starting past it is
            # empty: a poller asking for the blocks after the last it saw gets [], not an error.
            def bound(tag):
                if isinstance(tag, str) and tag.startswith("0x"):
                    return parse_qty(tag, "block number")
                return dev.block_number(tag or "latest")
            first = bound(flt.get("fromBlock"))
            last = min(bound(flt.get("toBlock")), dev.head_number())
        addresses = flt.get("address")
        if isinstance(addresses, str):
            addresses = [addresses]
        addresses = {data(parse_address(a)) for a in addresses} if addresses else None
        wanted = []  # per position: None (any) or a set of topics
        for t in flt.get("topics") or []:
            if t is None:
                wanted.append(None)
            else:
                wanted.append({data(parse_data(x, "topic")) for x in ([t] if isinstance(t, str) else t)})
        out = []
        for n in range(first, last + 1):
            for m in dev.block_txs.get(dev.header(n).hash, []):
                for log in m.receipt["logs"]:
                    if addresses is not None and log["address"] not in addresses:
                        continue
                    if len(wanted) > len(log["topics"]):
                        continue
                    if all(w is None or log["topics"][i] in w for i, w in enumerate(wanted)):
                        out.append(log)
        return out

    # -- test controls --

    def evm_snapshot(self):
        return qty(self.dev.snapshot())

    def evm_revert(self, sid):
        return self.dev.revert(parse_qty(sid, "snapshot id"))

    def evm_mine(self, count=None):
        # Hardhat and Ganache take an optional timestamp here; a small number is a block count.
        n = 1 if count is None else parse_qty(count, "count")
        for i in range(max(1, n)):
            self.dev.mine_block(include_pending=True)
        return "0x0"

    def dev_setAutomine(self, on):
        if not isinstance(on, bool):
            raise RpcError("dev_setAutomine takes a boolean", -32602)
        self.dev.automine = on
        return True

    def dev_setMinPriorityFee(self, wei):
        self.dev.min_tip = parse_qty(wei, "wei")
        return True

    def dev_dropPending(self):
        self.dev.pool.clear()
        return True

    def dev_goOffline(self, seconds):
        """An RPC outage that keeps the chain: after answering, the server stops listening
        (connections are refused, kept-alive ones closed) and comes back on the same port
        `seconds` later. Killing the process instead would lose the chain, which is only in
        memory. (To make requests hang rather than fail, stop the process with SIGSTOP and
        resume it with SIGCONT.)"""
        seconds = float(seconds) if isinstance(seconds, (int, float)) else parse_qty(seconds, "seconds")
        Handler.offline_until = time.time() + seconds
        return True


# ---- HTTP ------------------------------------------------------------------------------

class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, which HTTP clients expect
    api = None
    lock = None
    verbose = False
    server = None  # the listening server, while there is one
    offline_until = 0.0  # during an outage (dev_goOffline), time.time() is below this

    def do_POST(self):
        if time.time() < Handler.offline_until:
            # A connection kept alive from before the outage: close it unanswered.
            self.close_connection = True
            return
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            body = self.read_chunked()
        else:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        try:
            request = json.loads(body)
        except ValueError:
            answer = error_answer(None, RpcError("parse error", -32700))
        else:
            if isinstance(request, list):
                answer = [self.dispatch(r) for r in request] if request else \
                    error_answer(None, RpcError("empty batch", -32600))
            else:
                answer = self.dispatch(request)
        out = json.dumps(answer).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(out)))
        self.end_headers()
        self.wfile.write(out)
        if Handler.offline_until > time.time() and Handler.server is not None:
            # dev_goOffline was answered: now stop listening (shutdown() waits for the serving
            # loop, so it runs on a thread of its own) until main() binds the port again.
            server, Handler.server = Handler.server, None
            threading.Thread(target=server.shutdown, daemon=True).start()

    def read_chunked(self):
        body = b""
        while True:
            size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
            if size == 0:
                while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                    pass  # trailers
                return body
            body += self.rfile.read(size)
            self.rfile.readline()  # the CRLF after the chunk

    def dispatch(self, request):
        rid = request.get("id") if isinstance(request, dict) else None
        try:
            if not isinstance(request, dict) or not isinstance(request.get("method"), str):
                raise RpcError("invalid request", -32600)
            method = request["method"]
            fn = getattr(self.api, method, None) if method.split("_")[0] in ("eth", "net", "web3", "evm", "dev") else None
            if fn is None:
                raise RpcError(f"the method {method} does not exist/is not available", -32601)
            params = request.get("params") or []
            if not isinstance(params, list):
                raise RpcError("params must be an array", -32602)
            with self.lock:
                try:
                    result = fn(*params)
                except TypeError as e:
                    if "positional argument" in str(e):
                        raise RpcError(f"invalid params: {e}", -32602) from None
                    raise
            if self.verbose:
                print(f"devchain: {method} {json.dumps(params)[:200]} -> {json.dumps(result)[:200]}", file=sys.stderr)
            return {"jsonrpc": "2.0", "id": rid, "result": result}
        except RpcError as e:
            if self.verbose:
                print(f"devchain: {request.get('method')} -> error {e.code} {e.message}", file=sys.stderr)
            return error_answer(rid, e)
        except Exception as e:
            traceback.print_exc()
            return error_answer(rid, RpcError(f"internal error: {e}", -32603))

    def log_message(self, fmt, *args):
        pass  # one line per request would drown the test output; --verbose logs calls instead


def error_answer(rid, e):
    err = {"code": e.code, "message": e.message}
    if e.data is not None:
        err["data"] = e.data
    return {"jsonrpc": "2.0", "id": rid, "error": err}


def parse_fund(spec):
    address, _, wei = spec.partition(":")
    try:
        to_canonical_address(address)
        amount = int(wei, 0) if wei else DEFAULT_FUND
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected 0xADDRESS[:WEI], got {spec!r}") from None
    return address, amount


def main():
    p = argparse.ArgumentParser(prog="scripts/devchain", description=__doc__.split("\n\n")[0])
    p.add_argument("--port", type=int, required=True, help="0 picks a free port")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--chain-id", type=int, default=1337)
    p.add_argument("--fund", type=parse_fund, action="append", default=[], metavar="0xADDRESS[:WEI]",
                   help=f"fund an account in the genesis state (default {DEFAULT_FUND // ETHER} ETH); repeatable")
    p.add_argument("--block-time", type=float, default=0, metavar="SECONDS",
                   help="also mine a block every SECONDS (with any executable pending transactions)")
    p.add_argument("--block-time-auto", action="store_const", const=1.0, dest="block_time",
                   help="same as --block-time 1")
    p.add_argument("--verbose", action="store_true", help="log every call to stderr")
    args = p.parse_args()

    funds = {}
    for address, amount in args.fund:
        funds[address] = funds.get(address, 0) + amount
    dev = DevChain(args.chain_id, funds)
    Handler.api, Handler.lock, Handler.verbose = Api(dev), threading.Lock(), args.verbose
    if args.block_time > 0:
        def mine_periodically():
            while True:
                time.sleep(args.block_time)
                with Handler.lock:
                    dev.mine_block()
        threading.Thread(target=mine_periodically, daemon=True).start()
    host, port = args.host, args.port
    announced = False
    try:
        while True:
            server = ThreadingHTTPServer((host, port), Handler)  # allows reuse of the address
            server.daemon_threads = True
            if not announced:
                host, port = server.server_address[:2]  # --port 0: keep the port it got
                print(f"devchain ready on http://{host}:{port} chain {args.chain_id}", flush=True)
                announced = True
            Handler.server = server
            # Returns when dev_goOffline shuts it down; a short poll makes that prompt.
            server.serve_forever(poll_interval=0.05)
            server.server_close()
            time.sleep(max(0.0, Handler.offline_until - time.time()))
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
