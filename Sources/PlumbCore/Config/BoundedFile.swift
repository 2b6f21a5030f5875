import Foundation

/// Reads a small file a config names (a credentials file, a service account's key): a regular
/// file only, at most `limit` bytes, so that a path such as `/dev/zero` or a FIFO cannot hang or
/// fill `plumb serve` at start.
///
/// ```swift
/// let bytes = try BoundedFile.read("/etc/plumb/key.json", limit: 64 << 10)
/// ```
public enum BoundedFile {
    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    public static func read(_ path: String, limit: Int) throws -> [UInt8] {
        guard let attributes = try? FileManager.default.attributesOfItem(atPath: path) else {
            throw Failure(description: "\(path) cannot be read")
        }
        guard attributes[.type] as? FileAttributeType == .typeRegular else { throw Failure(description: "\(path) is not a regular file") }
        guard let size = attributes[.size] as? Int, size <= limit else { throw Failure(description: "\(path) is over \(limit) bytes") }
        guard let handle = FileHandle(forReadingAtPath: path) else { throw Failure(description: "\(path) cannot be read") }
        defer { try? handle.close() }
        let data = (try? handle.read(upToCount: limit + 1)) ?? Data()
        guard data.count <= limit else { throw Failure(description: "\(path) is over \(limit) bytes") }
        return Array(data)
    }
}
