#if !PLUMB_FUZZ
import Foundation
import PlumbCore
import PlumbStore
import PlumbTestSupport

/// Seed inputs for the targets whose valid inputs only Plumb's own writers make: a published
/// segment and a write-ahead log file of a few spans each (the fuzzer mutates from there).
enum Seeds {
    static func write(into corpus: String) throws {
        let tmp = makeTempDirectory("plumb-fuzz-seed")
        defer { try? FileManager.default.removeItem(atPath: tmp) }
        var gen = TestSpans(seed: 7)
        let dir = DataDirectory(tmp + "/data")
        var o = StoreOptions.manual(rowGroupSize: 8)
        o.walCompression = .never
        let store = try SpanStore(directory: dir, options: o)
        for s in gen.spans(20, bodies: true) { store.append(s) }
        try store.sync()
        for s in gen.spans(6, from: 20) { store.append(s) }
        try store.flush()
        let segment = FileSystem.list(dir.segments).first { $0.hasSuffix(".plseg") }
        let wal = FileSystem.list(dir.wal).last
        for (sub, from) in [("segment", segment.map { dir.segment($0) }), ("wal", wal.map { dir.wal + "/" + $0 })] {
            guard let from else { throw SeedError(description: "no \(sub) file was written") }
            try FileSystem.makeDirectory(corpus + "/" + sub)
            let bytes = try FileSystem.readAll(from)
            FileManager.default.createFile(atPath: corpus + "/" + sub + "/seed-store", contents: Data(bytes))
            print("\(sub): \(bytes.count) bytes")
        }
        try store.close()
    }

    struct SeedError: Error, CustomStringConvertible { let description: String }
}
#endif
