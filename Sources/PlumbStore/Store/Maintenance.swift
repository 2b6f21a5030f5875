import PlumbCore

/// Compaction and retention, run on the maintenance thread with its own catalog connection;
/// segment ids and the hash chain stay in one order through the shared `PublishSequencer`. Each rewrite publishes its new segment and retires the old ones in one transaction;
/// the old files are deleted only afterwards, so a crash anywhere keeps every live span exactly once.
struct Maintenance {
    let store: SpanStore

    func run() throws {
        let now = Timestamp.nowMicros()
        try applyRetention(now: now)
        if store.options.compaction { while try compactOnce() {} }
    }

    /// Whether a segment is free to rewrite or delete: every active exporter has sent it (a
    /// level-0 segment below the export floor), or it is a rewrite of such segments (level > 0).
    func exported(_ s: SegmentRecord, floor: Int64?) -> Bool {
        guard let floor, s.level == 0 else { return true }
        return s.id < floor
    }

    /// The export floor (`Catalog.exportFloor`) as of `now`.
    func exportFloor(now: Int64) throws -> Int64? {
        try store.maintenanceCatalog.exportFloor(now: now, maxLag: store.options.exportMaxLagMicros)
    }

    private var publisher: SegmentPublisher {
        SegmentPublisher(directory: store.directory, catalog: store.maintenanceCatalog,
                         rowGroupSize: store.options.rowGroupSize, sequencer: store.sequencer)
    }

    /// Merges the oldest run of small segments of one level (tiered: a merged segment is not
    /// rewritten again until enough peers of its level exist), time-sorted; false when idle.
    func compactOnce() throws -> Bool {
        let target = store.options.compactionTargetRows
        let floor = try exportFloor(now: Timestamp.nowMicros())
        let small = try store.maintenanceCatalog.liveSegments().filter { $0.rows < Int64(target / 2) && exported($0, floor: floor) }
        let levels = Dictionary(grouping: small, by: \.level)
        guard let (_, peers) = levels.sorted(by: { $0.key < $1.key })
            .first(where: { $0.value.count >= store.options.compactionMinSegments }) else { return false }
        var group: [SegmentRecord] = []
        var rows: Int64 = 0
        for s in peers {
            if !group.isEmpty && rows + s.rows > Int64(target) { break }
            group.append(s); rows += s.rows
        }
        guard group.count >= 2 else { return false }
        try rewrite(group, keep: nil)
        store.cond.lock(); store.counters.compactions += 1; store.cond.unlock()
        return true
    }

    /// Deletes spans whose ts_start is before the span cutoff (whole segments, or a rewrite of a
    /// segment that straddles it), and body files entirely before the body cutoff.
    func applyRetention(now: Int64) throws {
        let catalog = store.maintenanceCatalog
        if store.options.retentionMicros == nil { try catalog.setRetentionCutoff(.min) }   // retention off: hide nothing
        if let keep = store.options.retentionMicros {
            let cutoff = now - keep
            let floor = try exportFloor(now: now)
            let live = try catalog.liveSegments().filter { exported($0, floor: floor) }
            let expired = live.filter { $0.tsMax < cutoff }
            if !expired.isEmpty {
                try catalog.expire(segments: expired.map(\.id))
                for s in expired { try FileSystem.remove(store.directory.segment(s.file)) }
            }
            // Readers hide rows before the cutoff at once; a segment that straddles it is
            // rewritten only once a tenth of its time range has expired, not on every run.
            try catalog.setRetentionCutoff(cutoff)
            for s in live where s.tsMin < cutoff && s.tsMax >= cutoff
                && Double(cutoff) - Double(s.tsMin) >= 0.1 * max(1, Double(s.tsMax) - Double(s.tsMin)) {
                try rewrite([s], keep: { $0 >= cutoff })
            }
        }
        let bodyKeep = [store.options.bodyRetentionMicros, store.options.retentionMicros].compactMap { $0 }.min()
        if let bodyKeep {
            // Bodies of segments an exporter has still to send stay (body files are cut with
            // level-0 segments, so their times line up).
            let unsent = try exportFloor(now: now).flatMap { try catalog.pendingRows(after: ExportCursor(segmentID: $0)).tsMin }
            let cutoff = min(now - bodyKeep, unsent ?? .max)
            let old = try catalog.bodyFiles().filter { $0.state == "live" && $0.tsMax < cutoff }
            if !old.isEmpty {
                try catalog.expire(bodyFiles: old.map(\.id))
                for b in old { try FileSystem.remove(store.directory.body(b.file)) }
            }
        }
    }

    /// Merges `candidates` (`SegmentMerger`: a row group at a time), keeping the rows whose
    /// ts_start passes `keep`, and publishes the result in their place. An input that fails its
    /// checks is set aside and the rewrite left for the next run.
    private func rewrite(_ candidates: [SegmentRecord], keep: ((Int64) -> Bool)?) throws {
        var readers: [SegmentReader] = []
        var segments: [SegmentRecord] = []
        for s in candidates {
            do {
                readers.append(try SegmentReader(path: store.directory.segment(s.file)))
                segments.append(s)
            } catch let e as SegmentError where !e.isTransient {
                try setAside(s, reason: e.reason)
            }
        }
        guard !segments.isEmpty, keep != nil || segments.count >= 2 else { return }
        let tmp = publisher.temporaryPath()
        let written: SegmentWriter.Written?
        do {
            var merger = try SegmentMerger(readers, keep: keep)
            written = try merger.write(to: tmp, rowGroupSize: store.options.rowGroupSize)
        } catch let e as SegmentMerger.InputError {
            try? FileSystem.remove(tmp)
            if e.error.isTransient { throw e.error }
            try setAside(segments[e.input], reason: e.error.reason)
            return
        } catch {
            try? FileSystem.remove(tmp)
            throw error
        }
        let ids = segments.map(\.id)
        if let written {
            _ = try publisher.publish(written, at: tmp, walSeqMax: segments.map(\.walSeqMax).max() ?? 0,
                                      level: (segments.map(\.level).max() ?? 0) + 1, bodyFile: nil, replacing: ids)
        } else {
            try store.maintenanceCatalog.expire(segments: ids)
        }
        for s in segments { try FileSystem.remove(store.directory.segment(s.file)) }
    }
}

extension Maintenance {
    /// A segment that fails its checks is set aside: its row leaves the live set (readers stop
    /// trying it) and its file moves to quarantine/, where `plumb verify` keeps naming it.
    func setAside(_ s: SegmentRecord, reason: String) throws {
        try FileSystem.makeDirectory(store.directory.quarantine)
        try store.maintenanceCatalog.quarantine(segment: s.id)
        if FileSystem.exists(store.directory.segment(s.file)) {
            try FileSystem.rename(store.directory.segment(s.file), store.directory.quarantine + "/" + s.file)
            try FileSystem.syncDirectory(store.directory.quarantine)
        }
        store.cond.lock(); store.counters.quarantined += 1; store.counters.lastError = "\(s.file) set aside: \(reason)"; store.cond.unlock()
    }
}

extension ColumnVector {
    /// The rows at `indices`, in that order.
    public func gather(_ indices: [Int]) -> ColumnVector {
        let v: ColumnValues
        switch values {
        case .int(let a): v = .int(indices.map { a[$0] })
        case .double(let a): v = .double(indices.map { a[$0] })
        case .bool(let a): v = .bool(indices.map { a[$0] })
        case .string(let a): v = .string(indices.map { a[$0] })
        case .map(let a): v = .map(indices.map { a[$0] })
        }
        return ColumnVector(v, validity: validity.map { val in indices.map { val[$0] } })
    }
}
