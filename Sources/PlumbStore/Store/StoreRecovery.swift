/// What a writer does on open, before replaying the WAL: remove files that no catalog row makes
/// visible (a crash between writing and publishing), and files of rows already replaced or expired
/// (a crash between publishing and deleting).
enum StoreRecovery {
    static func cleanUp(directory: DataDirectory, catalog: Catalog) throws -> [String] {
        var notes: [String] = []
        for name in FileSystem.list(directory.tmp) { try FileSystem.remove(directory.tmp + "/" + name) }
        let segments = try catalog.allSegments()
        let live = Set(segments.filter { $0.state == .live }.map(\.file))
        let quarantined = Set(segments.filter { $0.state == .quarantined }.map(\.file))
        for name in FileSystem.list(directory.segments) where quarantined.contains(name) {
            try FileSystem.makeDirectory(directory.quarantine)
            try FileSystem.rename(directory.segment(name), directory.quarantine + "/" + name)
            try FileSystem.syncDirectory(directory.quarantine)
            try FileSystem.syncDirectory(directory.segments)
        }
        for name in FileSystem.list(directory.segments) where name.hasSuffix(".plseg") && !live.contains(name) {
            try FileSystem.remove(directory.segment(name))
            if !segments.contains(where: { $0.file == name }) { notes.append("removed unpublished segment \(name)") }
        }
        let bodies = try catalog.bodyFiles()
        let liveBodies = Set(bodies.filter { $0.state == "live" }.map(\.file))
        for name in FileSystem.list(directory.bodies) where name.hasSuffix(".plbody") && !liveBodies.contains(name) {
            try FileSystem.remove(directory.body(name))
            if !bodies.contains(where: { $0.file == name }) { notes.append("removed unpublished body file \(name)") }
        }
        return notes
    }
}
