import PlumbCore

extension Catalog {
    /// A random id for this data directory (hex UUID), made by the first writer that asks; the
    /// exporters' `service.instance.id` and the ClickHouse insert tokens name it.
    public func installationID() throws -> String {
        if let id = try existingInstallationID() { return id }
        var g = SystemRandomNumberGenerator()
        var bytes = (0..<16).map { _ in UInt8.random(in: 0...255, using: &g) }
        bytes[6] = (bytes[6] & 0x0F) | 0x40; bytes[8] = (bytes[8] & 0x3F) | 0x80     // a version-4 UUID
        let hex = Hex.encode(bytes)
        let id = [0..<8, 8..<12, 12..<16, 16..<20, 20..<32].map { r in
            String(hex[hex.index(hex.startIndex, offsetBy: r.lowerBound)..<hex.index(hex.startIndex, offsetBy: r.upperBound)])
        }.joined(separator: "-")
        try db.run("INSERT OR IGNORE INTO meta(key, value) VALUES ('installation_id', ?)", [.text(id)])
        return try db.query("SELECT value FROM meta WHERE key = 'installation_id'", row: { $0.text(0) }).first ?? id
    }

    /// The installation id if a writer has made one (for read-only connections).
    public func existingInstallationID() throws -> String? {
        try db.query("SELECT value FROM meta WHERE key = 'installation_id'", row: { $0.text(0) }).first
    }
}
