import Foundation
import TFHEKernelABI

/// Why a parameter file was refused. Every case names the field at fault.
public enum ParameterError: Error, Equatable, CustomStringConvertible {
    case unreadable(path: String, reason: String)
    case malformedJSON(reason: String)
    case missingField(String)
    case invalidField(String, reason: String)
    /// An insecure (test-only) set was offered where real data would be protected by it.
    case insecureSetRefused(name: String)
    /// A set kept for benchmarks only was offered for keys that would protect real data.
    case benchmarkOnlySetRefused(name: String)

    public var description: String {
        switch self {
        case .unreadable(let path, let reason): "cannot read parameter file \(path): \(reason)"
        case .malformedJSON(let reason): "parameter file is not valid JSON: \(reason)"
        case .missingField(let field): "parameter file lacks the field '\(field)'"
        case .invalidField(let field, let reason): "parameter field '\(field)' is invalid: \(reason)"
        case .insecureSetRefused(let name):
            "parameter set '\(name)' is insecure (for tests and algorithm benchmarks only)"
        case .benchmarkOnlySetRefused(let name):
            "parameter set '\(name)' is for benchmarks only (its security is not established by a current estimate)"
        }
    }
}

extension ParameterSet {
    /// Refuses a set that must not protect real data: insecure test sets always, and sets
    /// kept for benchmarks (`benchmark_only` in the file) unless `allowBenchmarkOnly`. Key
    /// generation for production (`fhe keygen`, the service's keys) is to call this; loading
    /// does not, so that benchmarks and tools keep reading every set.
    public func checkUsableForProductionKeys(allowBenchmarkOnly: Bool = false) throws {
        if insecure { throw ParameterError.insecureSetRefused(name: name) }
        if benchmarkOnly && !allowBenchmarkOnly { throw ParameterError.benchmarkOnlySetRefused(name: name) }
    }

    /// Reads and validates a parameter file (see params/README.md for the format).
    /// Insecure sets are refused unless `allowInsecure` is set, which only tests and
    /// algorithm benchmarks do.
    public static func load(contentsOf url: URL, allowInsecure: Bool = false) throws -> ParameterSet {
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw ParameterError.unreadable(path: url.path, reason: error.localizedDescription)
        }
        return try parse(json: data, allowInsecure: allowInsecure)
    }

    public static func parse(json data: Data, allowInsecure: Bool = false) throws -> ParameterSet {
        // A parameter file is a few hundred bytes; refuse anything absurd before parsing.
        guard data.count <= 64 * 1024 else { throw ParameterError.malformedJSON(reason: "larger than 64 KiB") }
        let object: JSONValue
        do { object = try JSONDecoder().decode(JSONValue.self, from: data) } catch {
            throw ParameterError.malformedJSON(reason: "\(error)")
        }
        guard case .object(let root) = object else {
            throw ParameterError.malformedJSON(reason: "the top level is not an object")
        }
        let set = try ParameterSet(fields: FieldReader(root, path: ""))
        if set.insecure && !allowInsecure { throw ParameterError.insecureSetRefused(name: set.name) }
        return set
    }

    init(fields f: FieldReader) throws {
        name = try f.string("name")
        source = try f.string("source")
        insecure = try f.bool("insecure")
        benchmarkOnly = try f.isAbsent("benchmark_only") ? false : f.bool("benchmark_only")
        securityBits = try f.optionalInt("security_bits")
        failureProbabilityLog2 = try f.double("p_fail_log2")
        failureProbabilityNote = try f.optionalString("p_fail_note")
        engineNote = try f.optionalString("engine_note")
        torusBits = try f.int("torus_bits")
        guard torusBits == 32 || torusBits == 64 else { throw f.invalid("torus_bits", "must be 32 or 64") }
        if insecure {
            guard name.uppercased().contains("INSECURE") else { throw f.invalid("name", "an insecure set must say INSECURE in its name") }
            guard securityBits == nil else { throw f.invalid("security_bits", "an insecure set claims no security") }
        } else {
            guard let bits = securityBits, bits >= 128 else { throw f.invalid("security_bits", "a secure set needs at least 128 bits") }
        }
        guard failureProbabilityLog2 < 0 else { throw f.invalid("p_fail_log2", "must be negative") }
        lweDimension = try f.int("lwe_dimension", in: 1...(1 << 16))
        glweDimension = try f.int("glwe_dimension", in: 1...16)
        polynomialSize = try f.int("polynomial_size", in: 128...(1 << 16))
        guard polynomialSize.nonzeroBitCount == 1 else { throw f.invalid("polynomial_size", "must be a power of two") }
        let ks = try f.object("ks")
        postKeySwitchModulusBits = try ks.isAbsent("output_modulus_bits") ? torusBits : ks.int("output_modulus_bits")
        guard postKeySwitchModulusBits == torusBits || postKeySwitchModulusBits == 32 else {
            throw ks.invalid("output_modulus_bits", "must be 32 (KS32) or the torus word \(torusBits)")
        }
        // The small key's noise is drawn on the modulus the small LWE lives on.
        lweNoise = try f.object("lwe_noise").noise(torusBits: postKeySwitchModulusBits)
        glweNoise = try f.object("glwe_noise").noise(torusBits: torusBits)
        bootstrapDecomposition = try f.object("pbs").decomposition(torusBits: torusBits)
        keySwitchDecomposition = try ks.decomposition(torusBits: torusBits)
        try KeySwitchingKey<UInt64>.validate(decomposition: keySwitchDecomposition, torusBits: torusBits)
        messageBits = try f.int("message_bits", in: 1...8)
        carryBits = try f.int("carry_bits", in: 0...8)
        // With the padding bit, each message owns a box of N / 2^(message+carry) coefficients
        // of the test polynomial; it must hold at least two.
        guard (1 << (messageBits + carryBits + 1)) <= polynomialSize else {
            throw f.invalid("message_bits", "message and carry bits leave less than 2 coefficients per value in N=\(polynomialSize)")
        }
        guard let order = BootstrapOrder(rawValue: try f.string("order")) else {
            throw f.invalid("order", "must be 'ks_pbs' or 'pbs_ks'")
        }
        self.order = order
        guard let modulusSwitch = ModulusSwitch(rawValue: try f.string("modulus_switch")) else {
            throw f.invalid("modulus_switch", "must be 'standard' or 'centered_mean'")
        }
        self.modulusSwitch = modulusSwitch
        // At least 1 (a bootstrap's output); 2^16 is far past any TFHE-rs set (its largest,
        // MESSAGE_1_CARRY_7, uses 255) and keeps the level's products within UInt64.
        maxNoiseLevel = try f.int("max_noise_level", in: 1...(1 << 16))
        blindRotation = try f.isAbsent("blind_rotation") ? .classic : f.object("blind_rotation").blindRotation(lweDimension: lweDimension)
        // KS32 (TFHE-rs's KeySwitch32 atomic pattern) exists for KS then PBS only, where the
        // small LWE is a bootstrap's intermediate; this engine wires it for the classic rotation.
        if postKeySwitchModulusBits < torusBits {
            guard order == .keySwitchThenBootstrap else { throw ks.invalid("output_modulus_bits", "32 needs order 'ks_pbs'") }
            guard blindRotation == .classic else { throw ks.invalid("output_modulus_bits", "32 needs the classic blind rotation") }
        }
        // The multi-bit switch rounds one sum per group (`BlindRotation.switchModulusMultiBit`);
        // the centred-mean correction is for one rounding per coefficient.
        if case .multiBit = blindRotation, modulusSwitch == .centeredMean {
            throw f.invalid("modulus_switch", "must be 'standard' with a multi_bit blind rotation")
        }
        fingerprint = computeFingerprint()
    }
}

/// A JSON document, decoded strictly (a number is never taken for a boolean).
enum JSONValue: Decodable {
    case null, bool(Bool), number(Double), string(String), array([JSONValue]), object([String: JSONValue])

    init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() { self = .null }
        else if let b = try? c.decode(Bool.self) { self = .bool(b) }
        else if let d = try? c.decode(Double.self) { self = .number(d) }
        else if let s = try? c.decode(String.self) { self = .string(s) }
        else if let a = try? c.decode([JSONValue].self) { self = .array(a) }
        else { self = .object(try c.decode([String: JSONValue].self)) }
    }
}

/// Reads typed fields out of a JSON object and names the full path of any field at fault.
struct FieldReader {
    let values: [String: JSONValue]
    let path: String

    init(_ values: [String: JSONValue], path: String) { self.values = values; self.path = path }

    func name(_ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }
    func invalid(_ key: String, _ reason: String) -> ParameterError { .invalidField(name(key), reason: reason) }

    func value(_ key: String) throws -> JSONValue {
        guard let value = values[key] else { throw ParameterError.missingField(name(key)) }
        if case .null = value { throw ParameterError.missingField(name(key)) }
        return value
    }

    func isAbsent(_ key: String) -> Bool {
        guard let value = values[key] else { return true }
        if case .null = value { return true }
        return false
    }

    func string(_ key: String) throws -> String {
        guard case .string(let s) = try value(key) else { throw invalid(key, "must be a string") }
        return s
    }

    func optionalString(_ key: String) throws -> String? {
        isAbsent(key) ? nil : try string(key)
    }

    func bool(_ key: String) throws -> Bool {
        guard case .bool(let b) = try value(key) else { throw invalid(key, "must be true or false") }
        return b
    }

    func double(_ key: String) throws -> Double {
        guard case .number(let d) = try value(key), d.isFinite else { throw invalid(key, "must be a finite number") }
        return d
    }

    func int(_ key: String, in range: ClosedRange<Int> = Int.min...Int.max) throws -> Int {
        let d = try double(key)
        guard d.rounded() == d, let i = Int(exactly: d) else { throw invalid(key, "must be an integer") }
        guard range.contains(i) else { throw invalid(key, "must be in \(range.lowerBound)...\(range.upperBound)") }
        return i
    }

    func optionalInt(_ key: String) throws -> Int? {
        isAbsent(key) ? nil : try int(key)
    }

    func object(_ key: String) throws -> FieldReader {
        guard case .object(let o) = try value(key) else { throw invalid(key, "must be an object") }
        return FieldReader(o, path: name(key))
    }
    func noise(torusBits: Int) throws -> NoiseDistribution {
        switch try string("distribution") {
        case "gaussian":
            let sigma = try double("std_dev")
            guard sigma > 0 && sigma < 0.25 else { throw invalid("std_dev", "must be in (0, 0.25)") }
            return .gaussian(standardDeviation: sigma)
        case "tuniform":
            return .tUniform(boundLog2: try int("bound_log2", in: 0...(torusBits - 3)))
        default:
            throw invalid("distribution", "unknown key distribution (known: gaussian, tuniform)")
        }
    }

    /// {"method": "classic"}, {"method": "block_binary", "block_size": B} (2...8) or
    /// {"method": "multi_bit", "grouping_factor": g} (2...4), B or g dividing n.
    func blindRotation(lweDimension n: Int) throws -> BlindRotationMethod {
        let (method, sizeField): (BlindRotationMethod, String)
        switch try string("method") {
        case "classic":
            return .classic
        case "block_binary":
            (method, sizeField) = (.blockBinary(blockSize: try int("block_size", in: 2...8)), "block_size")
        case "multi_bit":
            (method, sizeField) = (.multiBit(groupingFactor: try int("grouping_factor", in: 2...4)), "grouping_factor")
        default:
            throw invalid("method", "unknown blind rotation (known: classic, block_binary, multi_bit)")
        }
        guard n % method.keyCoefficientsPerStep == 0 else { throw invalid(sizeField, "must divide lwe_dimension \(n)") }
        return method
    }

    func decomposition(torusBits: Int) throws -> GadgetDecomposition {
        let baseLog = try int("base_log", in: 1...(torusBits - 1))
        let level = try int("level", in: 1...torusBits)
        guard baseLog * level <= torusBits else {
            throw invalid("level", "base_log x level = \(baseLog * level) exceeds the \(torusBits)-bit word")
        }
        return GadgetDecomposition(baseLog: baseLog, levelCount: level)
    }
}
