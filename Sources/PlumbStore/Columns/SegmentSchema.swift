import PlumbCore

/// Where a span's bodies live: a body file, the offset of its LZ4 block, the offset inside the
/// decompressed block, and the byte lengths of the request and response bodies (nil: no body).
public struct BodyRef: Sendable, Hashable {
    public var file: Int64
    public var block: Int64
    public var offset: Int64
    public var requestLength: Int64?
    public var responseLength: Int64?

    public init(file: Int64, block: Int64, offset: Int64, requestLength: Int64?, responseLength: Int64?) {
        self.file = file; self.block = block; self.offset = offset
        self.requestLength = requestLength; self.responseLength = responseLength
    }
}

/// The columns of a segment file: span schema v1 without the bodies, then five hidden columns
/// holding each row's `BodyRef`.
public enum SegmentSchema {
    public static let bodyColumns: [ColumnDescriptor] = [
        .init("_body_file", .int, nullable: true),
        .init("_body_block", .int, nullable: true),
        .init("_body_offset", .int, nullable: true),
        .init("_body_request_len", .int, nullable: true),
        .init("_body_response_len", .int, nullable: true),
    ]

    public static let columns: [ColumnDescriptor] = SpanSchema.storedColumns + bodyColumns

    private static let indexByName: [String: Int] = Dictionary(
        uniqueKeysWithValues: columns.enumerated().map { ($1.name, $0) })

    public static func index(of name: String) -> Int? { indexByName[name] }
}
