# pragma version ==0.4.3
"""
@title JobsRegistry
@notice Records the final result of each confidential-compute job, so anyone can check
        later that a result they hold is the one the service confirmed.
@dev    An owner manages a set of confirmators (the service's signing accounts). A job id
        is confirmed at most once: a second confirmation reverts, which is the replay
        protection a confirmer that resends after a crash or a reorg relies on.
"""

# Why a job ended. Zero means "not confirmed", so a confirmed record is never all zero.
STATUS_SUCCEEDED: constant(uint8) = 1
STATUS_FAILED: constant(uint8) = 2

# A batch is bounded so its gas stays well under a block's gas limit (about 50k gas a job).
MAX_BATCH: constant(uint256) = 128

# The block number gets the 88 bits between the confirmator (low 160 bits) and the status
# (top 8 bits) of the packed record: 2^88 blocks outlast any chain.
BLOCK_SHIFT: constant(uint256) = 160
STATUS_SHIFT: constant(uint256) = 248
ADDRESS_MASK: constant(uint256) = (1 << 160) - 1
BLOCK_MASK: constant(uint256) = (1 << 88) - 1

event JobConfirmed:
    jobId: indexed(bytes32)
    resultHash: bytes32
    status: uint8
    confirmator: address

event ConfirmatorAdded:
    account: indexed(address)

event ConfirmatorRemoved:
    account: indexed(address)

event OwnershipTransferred:
    previousOwner: indexed(address)
    newOwner: indexed(address)

owner: public(address)
isConfirmator: public(HashMap[address, bool])

# A confirmation costs two fresh storage slots (the bulk of its gas), not four: the result
# hash needs a whole word, and status, block number and confirmator share the other one.
# Vyper gives every struct member its own slot, so the packing is done by hand.
resultHashOf: HashMap[bytes32, bytes32]
packedRecordOf: HashMap[bytes32, uint256]


@deploy
def __init__():
    self.owner = msg.sender
    # The deployer can confirm right away: a one-account setup needs no second transaction.
    self.isConfirmator[msg.sender] = True
    log ConfirmatorAdded(account=msg.sender)


@external
def addConfirmator(account: address):
    self._only_owner()
    assert account != empty(address), "zero address"
    assert not self.isConfirmator[account], "already a confirmator"
    self.isConfirmator[account] = True
    log ConfirmatorAdded(account=account)


@external
def removeConfirmator(account: address):
    self._only_owner()
    assert self.isConfirmator[account], "not a confirmator"
    self.isConfirmator[account] = False
    log ConfirmatorRemoved(account=account)


@external
def transferOwnership(newOwner: address):
    self._only_owner()
    assert newOwner != empty(address), "zero address"
    log OwnershipTransferred(previousOwner=self.owner, newOwner=newOwner)
    self.owner = newOwner


@external
def confirm(jobId: bytes32, resultHash: bytes32, status: uint8):
    assert self.isConfirmator[msg.sender], "not a confirmator"
    self._confirm(jobId, resultHash, status)


@external
def confirmBatch(
    jobIds: DynArray[bytes32, MAX_BATCH],
    resultHashes: DynArray[bytes32, MAX_BATCH],
    statuses: DynArray[uint8, MAX_BATCH],
):
    # The sender is checked once for the whole batch; every item gets the other checks, and
    # one failing item reverts the whole batch, so a batch lands entirely or not at all.
    assert self.isConfirmator[msg.sender], "not a confirmator"
    assert len(jobIds) != 0, "empty batch"
    assert len(resultHashes) == len(jobIds) and len(statuses) == len(jobIds), "length mismatch"
    for i: uint256 in range(len(jobIds), bound=MAX_BATCH):
        self._confirm(jobIds[i], resultHashes[i], statuses[i])


@view
@external
def getConfirmation(jobId: bytes32) -> (bytes32, uint8, uint256, address):
    """
    @return resultHash, status (1 succeeded, 2 failed), the number of the block that
            confirmed it, and the confirmator; all zero when the job is not confirmed.
    """
    packed: uint256 = self.packedRecordOf[jobId]
    return (
        self.resultHashOf[jobId],
        convert(packed >> STATUS_SHIFT, uint8),
        (packed >> BLOCK_SHIFT) & BLOCK_MASK,
        convert(convert(packed & ADDRESS_MASK, uint160), address),
    )


@internal
def _only_owner():
    assert msg.sender == self.owner, "only owner"


@internal
def _confirm(jobId: bytes32, resultHash: bytes32, status: uint8):
    assert status == STATUS_SUCCEEDED or status == STATUS_FAILED, "invalid status"
    # The packed word is never zero once written (its status byte is 1 or 2), so it alone
    # says whether the job was confirmed.
    assert self.packedRecordOf[jobId] == 0, "job already confirmed"
    self.resultHashOf[jobId] = resultHash
    self.packedRecordOf[jobId] = (
        (convert(status, uint256) << STATUS_SHIFT)
        | (block.number << BLOCK_SHIFT)
        | convert(convert(msg.sender, uint160), uint256)
    )
    log JobConfirmed(jobId=jobId, resultHash=resultHash, status=status, confirmator=msg.sender)
