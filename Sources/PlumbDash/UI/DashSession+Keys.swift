import PlumbCore
import PlumbQuery

extension DashSession {
    /// Acts on one key press: htop/k9s-style keys (`?` lists them).
    public func handle(_ key: Key) {
        if key == .resize || key == .redraw { return }
        if let prompt { return handlePrompt(prompt, key) }
        message = nil
        switch key {
        case .char("q"): quitRequested = true; return
        case .char("?"):
            if case .help? = stack.last { stack.removeLast() } else { stack.append(.help(scroll: 0)) }
            return
        case .escape:
            if !stack.isEmpty { stack.removeLast() }
            return
        case .char("/"): self.prompt = .filter(filter ?? ""); return
        case .char(":"): self.prompt = .goto(""); return
        case .char("t"): self.prompt = .range; return
        case .char("p"):
            paused.toggle()
            message = (paused ? "paused: press p to resume" : "resumed", .status)
            return
        case .char("r"): incidents = nil; refresh(); reloadTop(); return
        default: break
        }
        switch stack.last {
        case nil: dashboardKey(key)
        case .help(let s)?: stack[stack.count - 1] = .help(scroll: scrolled(s, key, page: height - 3))
        case .spans(var list)?:
            let n = list.result.rowCount
            switch key {
            case .down, .char("j"): list.selection = min(max(0, n - 1), list.selection + 1)
            case .up, .char("k"): list.selection = max(0, list.selection - 1)
            case .pageDown: list.selection = min(max(0, n - 1), list.selection + height - 4)
            case .pageUp: list.selection = max(0, list.selection - (height - 4))
            case .home, .char("g"): list.selection = 0
            case .end, .char("G"): list.selection = max(0, n - 1)
            case .enter:
                let ids = list.spanIds
                if list.selection < ids.count { openSpan(ids[list.selection]) }
                return
            default: break
            }
            stack[stack.count - 1] = .spans(list)
        case .detail(var d)?:
            d.scroll = scrolled(d.scroll, key, page: height - 3)
            stack[stack.count - 1] = .detail(d)
        }
    }

    /// A scroll position moved by j/k, arrows, page keys, g/G.
    func scrolled(_ s: Int, _ key: Key, page: Int) -> Int {
        switch key {
        case .down, .char("j"): return s + 1
        case .up, .char("k"): return max(0, s - 1)
        case .pageDown, .char(" "): return s + max(1, page)
        case .pageUp: return max(0, s - max(1, page))
        case .home, .char("g"): return 0
        case .end, .char("G"): return Int.max / 2
        default: return s
        }
    }

    func dashboardKey(_ key: Key) {
        let layout = frame().layout(results)
        let order = layout.order
        let at = order.firstIndex(of: focus) ?? 0
        switch key {
        case .tab, .right, .char("l"):
            focus = order[(at + 1) % order.count]; selection = 0
        case .backTab, .left, .char("h"):
            focus = order[(at + order.count - 1) % order.count]; selection = 0
        case .down, .char("j"):
            if selection + 1 < layout.selectable[focus] { selection += 1 }
        case .up, .char("k"): selection = max(0, selection - 1)
        case .pageDown: scroll += max(1, height - 3)
        case .pageUp: scroll = max(0, scroll - max(1, height - 3))
        case .enter: drill(layout)
        default: break
        }
    }

    func handlePrompt(_ p: Prompt, _ key: Key) {
        switch (p, key) {
        case (_, .escape): prompt = nil
        case (.range, .char(let c)):
            if let d = c.wholeNumberValue, d >= 1, d <= Self.ranges.count {
                range = Self.ranges[d - 1]; rangeChosen = true; prompt = nil; refresh(); reloadTop()
            }
        case (.range, .enter): prompt = nil
        case (.filter(let text), .enter): applyFilter(text)
        case (.goto(let text), .enter): goTo(text)
        case (.goto(let text), .tab):
            let matches = boards.map(\.name).filter { $0.hasPrefix(text) }
            if matches.count == 1 { prompt = .goto(matches[0]) }
        case (.filter(let text), .backspace): prompt = .filter(String(text.dropLast()))
        case (.goto(let text), .backspace): prompt = .goto(String(text.dropLast()))
        case (.filter(let text), .char(let c)): prompt = .filter(text + String(c))
        case (.goto(let text), .char(let c)): prompt = .goto(text + String(c))
        default: break
        }
    }

    func applyFilter(_ text: String) {
        let f = text.trimmingCharacters(in: .whitespaces)
        if !f.isEmpty {
            let head = "SELECT 1 FROM spans WHERE ("
            do { _ = try engine.bind(head + f + ")") } catch let e as QueryError {
                var where_ = ""
                if let o = e.offset { where_ = " at column \(min(f.count + 1, max(1, o - head.count + 1)))" }
                message = ("filter: \(e.message)\(where_)" + (e.hint.map { "; \($0)" } ?? ""), .crit)
                return
            } catch { message = ("filter: \(error)", .crit); return }
        }
        prompt = nil
        filter = f.isEmpty ? nil : f
        selection = 0
        refresh()
        reloadTop()
    }

    func goTo(_ text: String) {
        let name = text.trimmingCharacters(in: .whitespaces)
        let matches = boards.indices.filter { boards[$0].name == name } + boards.indices.filter { boards[$0].name.hasPrefix(name) && boards[$0].name != name }
        guard let i = matches.first, !name.isEmpty else {
            message = ("no dashboard '\(name)' (have: \(boards.map(\.name).joined(separator: ", ")))", .crit)
            return
        }
        prompt = nil
        stack = []
        board = i
        if !rangeChosen { range = boards[i].range }
        focus = 0; selection = 0; scroll = 0
        refresh()
    }

    /// Enter on the dashboard: a span row opens the span; any other row lists its spans.
    func drill(_ layout: FrameLayout) {
        guard focus < results.count, case .rows(let r) = results[focus] else { return }
        let p = current.panels[focus]
        let rows = r.rows
        let row = layout.selectable[focus] > 0 && selection < rows.count ? rows[selection] : nil
        if let row, let k = r.names.firstIndex(of: "span_id"), case .string(let id) = row[k] { return openSpan(id) }
        let d = Drill.of(p, names: r.names, row: row)
        do { stack.append(.spans(try SpanList.load(d, engine: engine, range: range, filter: filter))) } catch let e as QueryError {
            message = ("drill: \(e.message)", .crit)
        } catch { message = ("drill: \(error)", .crit) }
    }

    func openSpan(_ id: String) {
        do { stack.append(.detail(try SpanDetail.load(id, engine: engine))) } catch { message = ("span: \(error)", .crit) }
    }

    /// After `r`, a new range or filter: the span list on top is queried again.
    func reloadTop() {
        guard case .spans(let list)? = stack.last else { return }
        if var fresh = try? SpanList.load(list.drill, engine: engine, range: range, filter: filter) {
            fresh.selection = min(list.selection, max(0, fresh.result.rowCount - 1))
            stack[stack.count - 1] = .spans(fresh)
        }
    }
}
