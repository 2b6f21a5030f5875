import Foundation

/// Names of the columns a scan produces: a stored column (`model`), or one key of a map column
/// written as SQL (`properties['team']`), which the scan reads without building the maps.
public enum ScanName {
    public static func mapKey(_ column: String, _ key: String) -> String {
        column + "['" + key.replacingOccurrences(of: "'", with: "''") + "']"
    }

    /// The map column and key of a map-key scan name; nil for a plain column.
    public static func parseMapKey(_ name: String) -> (column: String, key: String)? {
        guard name.hasSuffix("']"), let open = name.range(of: "['") else { return nil }
        let key = name[open.upperBound..<name.index(name.endIndex, offsetBy: -2)]
        return (String(name[..<open.lowerBound]), key.replacingOccurrences(of: "''", with: "'"))
    }
}
