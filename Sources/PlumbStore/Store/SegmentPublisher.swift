/// The publish protocol for one segment: write to `tmp/`, fsync, rename into `segments/`, fsync the
/// directory, then insert the catalog row (the moment it becomes visible).
struct SegmentPublisher {
    let directory: DataDirectory
    let catalog: Catalog
    let rowGroupSize: Int

    func publish(id: Int64, columns: [ColumnVector], walSeqMax: Int64, level: Int64,
                 bodyFile: NewBodyFile?, replacing: [Int64] = []) throws -> SegmentRecord {
        let name = DataDirectory.segmentFileName(id: id)
        let tmp = directory.tmp + "/" + name
        let written = try SegmentWriter.write(columns: columns, to: tmp, rowGroupSize: rowGroupSize)
        try FileSystem.rename(tmp, directory.segment(name))
        try FileSystem.syncDirectory(directory.segments)
        let ts = written.footer.fileZones[SegmentSchema.index(of: "ts_start")!]
        guard case .int(let tsMin, let tsMax) = ts.bounds else { throw FormatError("segment without timestamps") }
        return try catalog.publish(id: id, NewSegment(
            file: name, rows: Int64(written.footer.rowCount), bytes: Int64(written.bytes), tsMin: tsMin, tsMax: tsMax,
            sha256: written.sha256, walSeqMax: walSeqMax, level: level, bodyFile: bodyFile), replacing: replacing)
    }
}
