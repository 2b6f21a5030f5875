/// A dashboard as its file defines it: a title, a default time range and panels laid out in rows.
/// Format: `dashboards-tui/README.md`.
public struct Dashboard: Sendable, Equatable {
    public var name: String
    public var title: String
    /// Default time range, e.g. "1h" (the `t` key and `--range` change it).
    public var range: String
    public var panels: [Panel]

    /// How a panel shows its query's result.
    public enum Visual: String, Sendable, CaseIterable {
        /// One number: the first column of the first row.
        case stat
        /// A line of block characters: the last column of each row, in row order.
        case sparkline
        /// Horizontal bars: label (first column), value (last column).
        case bars
        /// The rows as an aligned table.
        case table
        /// The incidents of the range (no query: the incident library).
        case incidents
    }

    public struct Panel: Sendable, Equatable {
        public var title: String
        public var query: String
        public var visual: Visual
        /// Text after a stat's number ("/s", "%", "ms", "$" goes before).
        public var unit: String
        /// Colour thresholds on the stat's (or bar's) value: yellow at `warn`, red at `crit`.
        public var warn: Double?
        public var crit: Double?
        /// Panels with the same row share its width by `width` weights; rows go top to bottom.
        public var row: Int
        public var width: Int
        /// Which spans Enter lists for a selected row: a condition with `$1`, `$2`, … for the
        /// row's columns (nil: columns named like span columns must match; see `Drill`).
        public var drill: String? = nil
        /// Lines the panel takes (tables and bars; stats and sparklines use 3).
        public var height: Int

        public init(title: String, query: String, visual: Visual, unit: String = "", warn: Double? = nil, crit: Double? = nil,
                    row: Int = 0, width: Int = 1, drill: String? = nil, height: Int = 8) {
            self.title = title; self.query = query; self.visual = visual; self.unit = unit; self.warn = warn; self.crit = crit
            self.row = row; self.width = width; self.drill = drill; self.height = height
        }
    }
}
