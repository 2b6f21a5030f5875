import PlumbCore

extension DashSession {
    /// The whole screen: a header line, the dashboard (or the screen above it), and a footer
    /// with the prompt, a message or the keys. Exactly `height` lines of exactly `width` columns.
    public func render(width: Int, height: Int) -> [StyledLine] {
        resize(width: width, height: height)
        guard width >= Self.minimumSize.width, height >= Self.minimumSize.height else {
            let text = "terminal too small (\(width)x\(height)): plumb dash needs at least \(Self.minimumSize.width)x\(Self.minimumSize.height)"
            var out = [StyledLine(text, .crit)]
            if height > 1 { out.append(StyledLine("resize, or press q to quit", .dim)) }
            while out.count < height { out.append(StyledLine()) }
            return out.prefix(max(0, height)).map { $0.fitted(width) }
        }
        let room = height - 2
        var body: [StyledLine]
        switch stack.last {
        case nil: body = dashboardBody(room)
        case .help(let s)?:
            let all = helpText.map { StyledLine($0, $0.hasPrefix(" ") || $0.isEmpty ? .plain : .title) }
            let top = max(0, min(s, all.count - room))
            stack[stack.count - 1] = .help(scroll: top)
            body = Array(all.dropFirst(top).prefix(room))
        case .spans(var list)?:
            let (lines, top) = list.lines(width: width, height: room)
            list.scroll = top
            stack[stack.count - 1] = .spans(list)
            body = lines
        case .detail(var d)?:
            let (lines, top) = d.lines(width: width, height: room)
            d.scroll = top
            stack[stack.count - 1] = .detail(d)
            body = lines
        }
        while body.count < room { body.append(StyledLine()) }
        return ([header()] + body.prefix(room) + [footer()]).map { $0.fitted(width) }
    }

    func header() -> StyledLine {
        var l = StyledLine(" plumb ", .focused)
        l.append(" \(current.title) · last \(range)", .status)
        if let filter { l.append(" · where \(filter)", .status) }
        l.append(" · as of \(Timestamp.format(engine.now).prefix(19).replacingOccurrences(of: "T", with: " "))", .status)
        if paused { l.append(" · PAUSED", .warn) }
        l.append(String(format: " · %.0f ms ", refreshMillis), .status)
        let tail = "  ? help "
        let used = DisplayWidth.of(l.text)
        if used + tail.count < width { l.append(String(repeating: " ", count: width - used - tail.count), .status); l.append(tail, .status) }
        return l
    }

    func footer() -> StyledLine {
        switch prompt {
        case .filter(let t)?: return StyledLine("/" + t + "█", .plain).with(message)
        case .goto(let t)?:
            return StyledLine(":" + t + "█   dashboards: " + boards.map(\.name).joined(separator: " "), .plain).with(message)
        case .range?:
            let options = Self.ranges.enumerated().map { "\($0 + 1) \($1)" }.joined(separator: "  ")
            return StyledLine("time range: " + options + "   (Esc: keep \(range))", .plain)
        case nil:
            if let message { return StyledLine(message.text, message.style) }
            let keys = stack.isEmpty
                ? "Tab panel · j/k row · Enter spans · / filter · : board · t range · p pause · ? help · q quit"
                : "j/k move · Enter open · Esc back · q quit"
            return StyledLine(keys, .dim)
        }
    }

    /// The dashboard's panels, scrolled so the focused panel's selected row is on screen.
    func dashboardBody(_ room: Int) -> [StyledLine] {
        let layout = frame().layout(results, focus: focus, selection: selection)
        let p = focus < current.panels.count ? current.panels[focus] : nil
        let top = focus < layout.panelLine.count ? layout.panelLine[focus] : 0
        let want = top + (p.map { PanelText.firstRow($0) } ?? 0) + selection + 1
        if top < scroll { scroll = max(0, top - 1) }
        if want >= scroll + room { scroll = want - room + 1 }
        scroll = max(0, min(scroll, max(0, layout.lines.count - room)))
        if results.isEmpty { return [StyledLine("loading…", .dim)] }
        return Array(layout.lines.dropFirst(scroll).prefix(room))
    }

    var helpText: [String] { [
        "Keys",
        "  ?            this help (again or Esc: close)",
        "  /            filter every panel by a WHERE expression of the query dialect,",
        "               e.g. provider = 'openai' AND status >= 500 (empty: no filter)",
        "  :            go to a dashboard by name (Tab completes)",
        "  Tab, S-Tab   next, previous panel (also l/h, Right/Left)",
        "  j/k, Up/Down move in a list",
        "  Enter        the spans behind the selected row; on a span: its columns, bodies",
        "  Esc          back",
        "  t            time range: 15m 1h 6h 24h 7d 30d",
        "  p            pause and resume refreshing",
        "  r            refresh now",
        "  PgUp/PgDn    scroll",
        "  q            quit",
        "",
        "Dashboards",
    ] + boards.map { "  \($0.name.padding(toLength: 12, withPad: " ", startingAt: 0)) \($0.title)" } + [
        "",
        "Dashboard files: dashboards-tui/README.md",
        "Query dialect: schemas/query-dialect.md",
    ] }
}

extension StyledLine {
    /// The line, then a message after it (an error from the typed text).
    func with(_ message: (text: String, style: Style)?) -> StyledLine {
        guard let message else { return self }
        var l = self
        l.append("   " + message.text, message.style)
        return l
    }
}
