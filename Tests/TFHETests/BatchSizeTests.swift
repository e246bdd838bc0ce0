import Foundation
import Testing
@testable import TFHE

/// The batch of bootstraps sized from the core's caches (`ServerKey.preferredBatchSize`) and
/// the cache sizes read from sysfs (`CacheSizes`).
@Suite("Batch size from the cache")
struct BatchSizeTests {
    /// Caches with no L3: the L2 is the last level.
    static let l2Only = CacheSizes(l1Data: 32 << 10, l2: 512 << 10, l3: 0)
    /// This AMD EPYC's: 512 KB of L2 per core, 32 MB of L3 shared by its 2 CPUs.
    static let epyc = CacheSizes(l1Data: 32 << 10, l2: 512 << 10, l3: 32 << 20, l3SharedBy: 2)

    @Test func batchFitsTheLastLevelBesideTwoGGSWs() throws {
        // concrete's set: a GGSW is 9 polynomials of 1,024 Doubles (72 KB); a ciphertext's CMux
        // touches its accumulator and difference (4 × 8 KB of 64-bit words), its digits'
        // transforms (3 × 8 KB) and one output column (8 KB): 64 KB. (512 - 144) / 64 = 5.
        let concrete = try TestParameters.load("concrete_4bit_n807_k2_n1024")
        #expect(BootstrapScratch<UInt64>.cmuxWorkingSetBytes(parameters: concrete) == 64 << 10)
        #expect(ServerKey<UInt64>.preferredBatchSize(parameters: concrete, cache: Self.l2Only) == 5)
        // The boolean set: GGSWs of 32 polynomials of 512 Doubles (128 KB); a ciphertext's
        // 32-bit accumulator and difference (10 KB), two levels of digits (8 KB) and their
        // transforms (32 KB), one column (4 KB): 54 KB. (512 - 256) / 54 = 4.
        let boolean = try TestParameters.load("tfhe-rs_boolean_default")
        #expect(BootstrapScratch<UInt32>.cmuxWorkingSetBytes(parameters: boolean) == 54 << 10)
        #expect(ServerKey<UInt32>.preferredBatchSize(parameters: boolean, cache: Self.l2Only) == 4)
        // A 16 MB share of L3 holds far more than the largest batch.
        #expect(Self.epyc.lastLevelPerCore == 16 << 20)
        #expect(ServerKey<UInt64>.preferredBatchSize(parameters: concrete, cache: Self.epyc) == ServerKey<UInt64>.maximumBatchSize)
        #expect(ServerKey<UInt32>.preferredBatchSize(parameters: boolean, cache: Self.epyc) == ServerKey<UInt32>.maximumBatchSize)
    }

    @Test func batchStaysWithinItsBounds() throws {
        let concrete = try TestParameters.load("concrete_4bit_n807_k2_n1024")
        // A 2 MB L2 alone would hold 29 ciphertexts, more than the key traffic is worth.
        let largeL2 = CacheSizes(l1Data: 48 << 10, l2: 2 << 20, l3: 0)
        #expect(ServerKey<UInt64>.preferredBatchSize(parameters: concrete, cache: largeL2) == ServerKey<UInt64>.maximumBatchSize)
        // A cache smaller than the two GGSWs still pairs the CMuxes.
        let tiny = CacheSizes(l1Data: 32 << 10, l2: 128 << 10, l3: 0)
        #expect(ServerKey<UInt64>.preferredBatchSize(parameters: concrete, cache: tiny) == 2)
    }

    @Test func sysfsSizesParse() {
        #expect(CacheSizes.parseSize("48K") == 48 << 10)
        #expect(CacheSizes.parseSize("32768K") == 32 << 20)
        #expect(CacheSizes.parseSize("2M") == 2 << 20)
        #expect(CacheSizes.parseSize("4096") == 4096)
        for bad in ["", "K", "-1K", "0K", "12Q", "2048G", "99999999999999999999K"] {
            #expect(CacheSizes.parseSize(bad) == nil, "\(bad)")
        }
        #expect(CacheSizes.countCPUs("0-1") == 2)
        #expect(CacheSizes.countCPUs("5") == 1)
        #expect(CacheSizes.countCPUs("0-3,8-11") == 8)
        for bad in ["", "3-1", "a", "1-2-3", "-1", "0-99999999"] {
            #expect(CacheSizes.countCPUs(bad) == nil, "\(bad)")
        }
    }

    @Test func sysfsFolderIsRead() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("cache-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        let entries = [("1", "Data", "32K"), ("1", "Instruction", "32K"), ("2", "Unified", "512K"), ("3", "Unified", "32768K")]
        for (i, (level, type, size)) in entries.enumerated() {
            let index = folder.appendingPathComponent("index\(i)")
            try FileManager.default.createDirectory(at: index, withIntermediateDirectories: true)
            for (name, value) in [("level", level), ("type", type), ("size", size), ("shared_cpu_list", level == "3" ? "0-1" : "0")] {
                try (value + "\n").write(to: index.appendingPathComponent(name), atomically: true, encoding: .utf8)
            }
        }
        #expect(CacheSizes.fromSysfs(folder) == Self.epyc)
        // Without an L2 entry the caches are unknown, not guessed.
        try FileManager.default.removeItem(at: folder.appendingPathComponent("index2"))
        #expect(CacheSizes.fromSysfs(folder) == nil)
        #expect(CacheSizes.fromSysfs(folder.appendingPathComponent("missing")) == nil)
    }

    @Test func thisMachinesCachesAreReported() {
        let caches = CacheSizes.current
        #expect(caches.l2 >= 64 << 10 && caches.l1Data >= 8 << 10)
        #if os(Linux)
        // Linux describes them in sysfs; the assumed sizes are only a fallback.
        if FileManager.default.fileExists(atPath: "/sys/devices/system/cpu/cpu0/cache/index2") {
            #expect(CacheSizes.detect() != nil)
        }
        #endif
    }
}
