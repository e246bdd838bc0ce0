#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// The data-cache sizes of the CPU the engine runs on, as the operating system reports them
/// for one core: what batched bootstrapping sizes its working set by
/// (`ServerKey.preferredBatchSize`), so that each machine gets a batch that fits its caches.
public struct CacheSizes: Sendable, Equatable, CustomStringConvertible {
    /// Level-1 data cache, bytes.
    public let l1Data: Int
    /// Level-2 cache of one core, bytes.
    public let l2: Int
    /// Level-3 cache as this machine sees it (a virtual machine may see a share), bytes; 0
    /// when there is none.
    public let l3: Int
    /// The logical CPUs that share that L3.
    public let l3SharedBy: Int

    public init(l1Data: Int, l2: Int, l3: Int, l3SharedBy: Int = 1) {
        self.l1Data = l1Data
        self.l2 = l2
        self.l3 = l3
        self.l3SharedBy = max(1, l3SharedBy)
    }

    /// The last-level cache one core can count on: its share of the L3, or its L2 where there
    /// is no L3.
    public var lastLevelPerCore: Int { l3 > 0 ? max(l2, l3 / l3SharedBy) : l2 }

    /// What is assumed where the system does not say: the smallest L2 of the x86 server cores
    /// of the last decade (Skylake-SP has 1 MB, Zen 2 to 4 have 512 KB to 1 MB), so that a
    /// batch sized from it fits everywhere.
    public static let assumed = CacheSizes(l1Data: 32 << 10, l2: 512 << 10, l3: 0)

    /// This machine's caches, read once.
    public static let current: CacheSizes = detect() ?? assumed

    public var description: String {
        "L1d \(Self.format(l1Data)), L2 \(Self.format(l2)), L3 \(l3 > 0 ? "\(Self.format(l3)) over \(l3SharedBy) CPUs" : "none")"
    }

    private static func format(_ bytes: Int) -> String {
        bytes >= 1 << 20 && bytes % (1 << 20) == 0 ? "\(bytes >> 20) MB" : "\(bytes >> 10) KB"
    }

    /// Linux: sysfs's description of cpu0's caches, which (unlike glibc's `sysconf`, which
    /// reads CPUID and on a virtual machine reports the host socket's whole L3) is the view the
    /// kernel was given. macOS: `sysctl` (the performance cores' caches where there are two
    /// kinds).
    static func detect() -> CacheSizes? {
        #if os(Linux)
        return fromSysfs(URL(fileURLWithPath: "/sys/devices/system/cpu/cpu0/cache"))
        #elseif canImport(Darwin)
        func value(_ names: String...) -> Int? {
            for name in names {
                var result: Int64 = 0
                var size = MemoryLayout<Int64>.size
                if sysctlbyname(name, &result, &size, nil, 0) == 0, result > 0 { return Int(result) }
            }
            return nil
        }
        guard let l1 = value("hw.perflevel0.l1dcachesize", "hw.l1dcachesize"),
              let l2 = value("hw.perflevel0.l2cachesize", "hw.l2cachesize") else { return nil }
        return CacheSizes(l1Data: l1, l2: l2, l3: value("hw.l3cachesize") ?? 0)
        #else
        return nil
        #endif
    }

    /// Reads `index*/{level,type,size}` under a sysfs cache folder; nil unless both L1d and L2
    /// are there with sizes that parse.
    static func fromSysfs(_ folder: URL) -> CacheSizes? {
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: folder.path) else { return nil }
        var l1: Int?, l2: Int?, l3: Int?, l3Sharing = 1
        for entry in entries where entry.hasPrefix("index") {
            let index = folder.appendingPathComponent(entry)
            func read(_ name: String) -> String? {
                (try? String(contentsOf: index.appendingPathComponent(name), encoding: .utf8))?
                    .trimmingCharacters(in: .whitespacesAndNewlines)
            }
            guard let level = read("level"), let type = read("type"), let size = read("size").flatMap(parseSize) else { continue }
            switch (level, type) {
            case ("1", "Data"): l1 = size
            case ("2", "Unified"), ("2", "Data"): l2 = size
            case ("3", "Unified"):
                l3 = size
                l3Sharing = read("shared_cpu_list").flatMap(countCPUs) ?? 1
            default: break
            }
        }
        guard let l1, let l2 else { return nil }
        return CacheSizes(l1Data: l1, l2: l2, l3: l3 ?? 0, l3SharedBy: l3Sharing)
    }

    /// The CPUs of a kernel CPU list ("0-3,8-11", "5"); nil if it does not parse.
    static func countCPUs(_ list: String) -> Int? {
        var count = 0
        for part in list.split(separator: ",") {
            let bounds = part.split(separator: "-", omittingEmptySubsequences: false)
            guard (1...2).contains(bounds.count), let low = Int(bounds[0]), let high = Int(bounds[bounds.count - 1]),
                  low >= 0, low <= high, high < 1 << 20 else { return nil }
            count += high - low + 1
        }
        return count > 0 ? count : nil
    }

    /// sysfs writes sizes as "48K", "2048K" or "32M" (kernel `cacheinfo`); a plain number is
    /// bytes. Anything else, or a size that is not positive or beyond 1 GB, is refused.
    static func parseSize(_ text: String) -> Int? {
        var digits = Substring(text), scale = 1
        switch text.last {
        case "K": scale = 1 << 10; digits = digits.dropLast()
        case "M": scale = 1 << 20; digits = digits.dropLast()
        case "G": scale = 1 << 30; digits = digits.dropLast()
        default: break
        }
        guard let value = Int(digits), value > 0, value <= (1 << 30) / scale else { return nil }
        return value * scale
    }
}
