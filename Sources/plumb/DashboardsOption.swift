import ArgumentParser
import Foundation

/// `--dashboards`: the user's dashboard files, which `plumb dash` shows and whose panels
/// `plumb serve` and `plumb import` keep rollups for.
struct DashboardsOption: ParsableArguments {
    @Option(help: "Extra dashboard files (default ./dashboards-tui if present).") var dashboards: String?

    var directory: String? { dashboards ?? (FileManager.default.fileExists(atPath: "dashboards-tui") ? "dashboards-tui" : nil) }
}
