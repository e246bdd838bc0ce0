import Foundation

/// Reads a program's parameters (a JSON object) into a Decodable type that names its fields:
/// a field the type does not know is refused, so a misspelt option is an error rather than a
/// silently ignored one. Every failure is `.invalidParameters`.
enum ProgramParameterReader {
    static func decode<P: Decodable>(_ type: P.Type, from data: Data, program: String) throws(ProgramError) -> P {
        let bytes = data.isEmpty ? Data("{}".utf8) : data
        do {
            return try JSONDecoder().decode(P.self, from: bytes)
        } catch let refusal as UnknownParameter {
            throw ProgramError(.invalidParameters, "\(program): unknown parameter \"\(refusal.name.prefix(64))\"")
        } catch let error as DecodingError {
            throw ProgramError(.invalidParameters, "\(program): \(Self.explain(error))")
        } catch {
            throw ProgramError(.invalidParameters, "\(program): parameters are not a JSON object")
        }
    }

    private static func explain(_ error: DecodingError) -> String {
        func path(_ context: DecodingError.Context) -> String {
            let names = context.codingPath.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }
            return names.isEmpty ? "parameters" : names.joined(separator: ".")
        }
        switch error {
        case .typeMismatch(_, let context), .valueNotFound(_, let context): return "\(path(context)) has the wrong type"
        case .keyNotFound(let key, _): return "\"\(key.stringValue)\" is required"
        case .dataCorrupted(let context): return context.codingPath.isEmpty ? "parameters are not valid JSON" : "\(path(context)) is invalid"
        @unknown default: return "invalid parameters"
        }
    }

    /// Thrown by `refuseUnknownKeys`.
    struct UnknownParameter: Error { let name: String }

    private struct AnyKey: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    /// Call first in `init(from:)`: throws for any key outside `known`.
    static func refuseUnknownKeys(_ decoder: any Decoder, known: Set<String>) throws {
        let container = try decoder.container(keyedBy: AnyKey.self)
        if let unknown = container.allKeys.map(\.stringValue).sorted().first(where: { !known.contains($0) }) {
            throw UnknownParameter(name: unknown)
        }
    }
}
