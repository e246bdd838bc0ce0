/// Bounds on what an encrypted-values file may claim, checked before anything sized by the
/// claim is allocated. The defaults fit the programs of this module (a vector of 4096 u64
/// values is 131 072 blocks under 2-bit messages); a service lowers `maximumFileSize` to its
/// upload limit.
public struct EncryptedValuesLimits: Sendable, Hashable {
    /// Named values in one file.
    public var maximumEntries: Int
    /// Elements of one vector.
    public var maximumVectorLength: Int
    /// Blocks of all entries together, after compact lists are expanded and seeded blocks
    /// decompressed: the bound on memory that the compact forms (a few bytes per block in the
    /// file, a whole LWE ciphertext in memory) would otherwise leave to the file.
    public var maximumTotalBlocks: Int
    /// Bytes of the whole file.
    public var maximumFileSize: Int

    public init(maximumEntries: Int = 64, maximumVectorLength: Int = 4096, maximumTotalBlocks: Int = 262_144,
                maximumFileSize: Int = 1 << 30) {
        self.maximumEntries = maximumEntries
        self.maximumVectorLength = maximumVectorLength
        self.maximumTotalBlocks = maximumTotalBlocks
        self.maximumFileSize = maximumFileSize
    }
}

extension EncryptedValues {
    /// The longest name: long enough for a descriptive one, short enough to show in an error.
    public static let maximumNameLength = 64

    /// 1 to 64 characters of [A-Za-z0-9_.-]: safe in a file name, a URL and a log line.
    public static func isValidName(_ name: String) -> Bool {
        let bytes = Array(name.utf8)
        guard (1...maximumNameLength).contains(bytes.count) else { return false }
        return bytes.allSatisfy { c in
            (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(c) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(c)
                || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(c)
                || c == UInt8(ascii: "_") || c == UInt8(ascii: ".") || c == UInt8(ascii: "-")
        }
    }
}
