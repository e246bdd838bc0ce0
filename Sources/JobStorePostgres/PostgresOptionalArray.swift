import PostgresNIO

/// A one-dimensional PostgreSQL array whose elements may be NULL, in the binary array format
/// (`array_recv`: dimensions, has-nulls flag, element type, then per dimension its length and
/// lower bound, then each element as its length and bytes, length -1 for NULL). postgres-nio
/// 1.33 encodes `[Element]` but not `[Element?]`; the batch submission passes its optional
/// columns (idempotency key, callback URL, audit record) as such arrays.
struct PostgresOptionalArray<Element: PostgresArrayEncodable & PostgresNonThrowingEncodable>: PostgresNonThrowingEncodable {
    var elements: [Element?]

    init(_ elements: [Element?]) { self.elements = elements }

    static var psqlType: PostgresDataType { Element.psqlArrayType }
    static var psqlFormat: PostgresFormat { .binary }

    func encode<JSONEncoder: PostgresJSONEncoder>(into buffer: inout ByteBuffer, context: PostgresEncodingContext<JSONEncoder>) {
        buffer.writeInteger(elements.isEmpty ? 0 : 1, as: Int32.self)
        buffer.writeInteger(elements.contains(where: { $0 == nil }) ? 1 : 0, as: Int32.self)
        buffer.writeInteger(Element.psqlType.rawValue)
        guard !elements.isEmpty else { return }
        buffer.writeInteger(Int32(elements.count), as: Int32.self)
        buffer.writeInteger(1, as: Int32.self)  // lower bound: PostgreSQL arrays count from 1
        for element in elements {
            guard let element else {
                buffer.writeInteger(-1, as: Int32.self)
                continue
            }
            let lengthAt = buffer.writerIndex
            buffer.writeInteger(0, as: Int32.self)
            element.encode(into: &buffer, context: context)
            buffer.setInteger(Int32(buffer.writerIndex - lengthAt - 4), at: lengthAt, as: Int32.self)
        }
    }
}
