import Foundation

/// A page request for `GET /v1/jobs`: newest first, keyset-paginated on (createdAt, id).
public struct JobQuery: Sendable, Equatable {
    public enum Visibility: Sendable, Equatable {
        case all
        case tenant(String)
        case owner(tenant: String, subject: String)
    }

    /// The position after which the next page starts; opaque to clients (see `encoded`).
    public struct Cursor: Sendable, Equatable {
        public var createdAt: Int64
        public var id: JobID

        public init(createdAt: Int64, id: JobID) { self.createdAt = createdAt; self.id = id }

        public init(after job: Job) { self.init(createdAt: job.createdAt.microsecondsSince1970, id: job.id) }

        /// base64url of "micros:uuid"; malformed cursors decode to nil (a 400 for the client).
        public var encoded: String { Data("\(createdAt):\(id.uuidString)".utf8).base64URLEncodedString }

        public init?(encoded: String) {
            guard encoded.count <= 200 else { return nil }
            guard let data = Data(base64URLEncoded: encoded), let text = String(data: data, encoding: .utf8) else { return nil }
            let parts = text.split(separator: ":", maxSplits: 1)
            guard parts.count == 2, let micros = Int64(parts[0]), let id = UUID(uuidString: String(parts[1])) else { return nil }
            self.init(createdAt: micros, id: id)
        }
    }

    public var visibility: Visibility
    public var status: JobStatus?
    public var type: JobType?
    public var createdAfter: Date?
    public var createdBefore: Date?
    public var after: Cursor?
    public var limit: Int

    public init(visibility: Visibility, status: JobStatus? = nil, type: JobType? = nil,
                createdAfter: Date? = nil, createdBefore: Date? = nil, after: Cursor? = nil, limit: Int = 20) {
        self.visibility = visibility; self.status = status; self.type = type
        self.createdAfter = createdAfter; self.createdBefore = createdBefore; self.after = after; self.limit = limit
    }
}
