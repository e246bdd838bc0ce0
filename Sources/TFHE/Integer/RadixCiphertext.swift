/// An unsigned integer as radix blocks (Bergerat et al., eprint 2022/704, §5.1; TFHE-rs's
/// `RadixCiphertext`): x = Σ mᵢ · messageModulus^i, block 0 least significant, each block a
/// shortint ciphertext whose message is one digit mᵢ.
///
/// Stable for serialization: make one from its blocks (each with its degree and noise level)
/// and read them back with `blocks`. Operations accept blocks that still hold carries
/// (degree above messageModulus - 1) and propagate them first.
public struct RadixCiphertext<T: TorusScalar>: Sendable, Hashable {
    public var blocks: [ShortintCiphertext<T>]

    public init(blocks: [ShortintCiphertext<T>]) { self.blocks = blocks }

    public var blockCount: Int { blocks.count }
}
