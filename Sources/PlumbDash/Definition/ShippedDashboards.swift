/// The dashboards that come with Plumb (`dashboards-tui/`, compiled in), and the lookup that
/// lets a user's own files (same name) replace them or add more.
///
/// ```swift
/// let boards = try ShippedDashboards.all(userDirectory: "dashboards-tui")
/// ```
public enum ShippedDashboards {
    public static let names = ["overview", "incidents", "spend", "providers", "tail"]

    static func text(_ name: String) -> String? {
        let bytes: [UInt8]
        switch name {
        case "overview": bytes = PackageResources.overview_toml
        case "incidents": bytes = PackageResources.incidents_toml
        case "spend": bytes = PackageResources.spend_toml
        case "providers": bytes = PackageResources.providers_toml
        case "tail": bytes = PackageResources.tail_toml
        default: return nil
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// The shipped dashboards, then the files in `userDirectory` (a file named like a shipped
    /// one replaces it), in that order.
    public static func all(userDirectory: String?) throws -> [Dashboard] {
        var boards = try names.map { try DashboardFile.parse(text($0)!, name: $0, file: "dashboards-tui/\($0).toml") }
        if let dir = userDirectory {
            for b in try DashboardFile.loadAll(directory: dir) {
                if let i = boards.firstIndex(where: { $0.name == b.name }) { boards[i] = b } else { boards.append(b) }
            }
        }
        return boards
    }
}
