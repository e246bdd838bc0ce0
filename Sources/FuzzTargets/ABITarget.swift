import Chain
import Foundation

extension FuzzTarget {
    /// What the chain client reads from a node's JSON-RPC answers: a contract call's return
    /// data as ABI words (the registry's confirmation: bytes32, uint8, uint64, address) and a
    /// revert's `Error(string)` reason; and the hex texts around them (DATA, QUANTITY, EIP-55
    /// addresses). The same input is tried as both. Hex that parses must be hex: its bytes
    /// written again give the input's digits.
    static let abi = FuzzTarget(name: "abi", maximumInputLength: 4096, run: { data in
        _ = ABI.revertReason(data)
        for index in 0..<4 {
            _ = try? ABI.word(data, at: index)
            _ = try? ABI.uint64(data, at: index)
            _ = try? ABI.address(data, at: index)
        }
        let text = String(decoding: data, as: UTF8.self)
        if let bytes = try? Data(ethereumHex: text) {
            let digits = text.hasPrefix("0x") || text.hasPrefix("0X") ? text.dropFirst(2) : Substring(text)
            guard bytes.ethereumHex.dropFirst(2) == digits.lowercased() else {
                throw InvariantViolation("abi: hex \(text.debugDescription) read as \(bytes.ethereumHex)")
            }
        }
        if let value = try? Quantity.decode(text), !text.utf8.dropFirst(2).allSatisfy(isASCIIHexDigit) {
            throw InvariantViolation("abi: quantity \(text.debugDescription) read as \(value)")
        }
        if let address = try? EthereumAddress(text), address.bytes.ethereumHex != text.lowercased() {
            throw InvariantViolation("abi: address \(text.debugDescription) read as \(address.bytes.ethereumHex)")
        }
    }, seeds: {
        let address = try EthereumAddress(bytes: Data((1...20).map { UInt8($0) }))
        let confirmation = ABI.encode([.bytes32(Data(repeating: 0xcd, count: 32)), .uint(2), .uint(123_456), .address(address)])
        let reason = Data("job already confirmed".utf8)
        var revert = ABI.selector("Error(string)") + ABI.encode([.uint(32), .uint(UInt64(reason.count))]) + reason
        revert.append(Data(count: 32 - reason.count % 32))
        return [
            confirmation,
            revert,
            Data(confirmation.ethereumHex.utf8),
            Data(Quantity.encode(0x1f_ffff).utf8),
            Data(address.description.utf8),
        ]
    })
}

private func isASCIIHexDigit(_ c: UInt8) -> Bool {
    (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66)
}
