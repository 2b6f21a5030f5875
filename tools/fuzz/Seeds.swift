#if !PLUMB_FUZZ
import Foundation
import PlumbCore
@testable import PlumbStore
import PlumbTestSupport

/// Seed inputs for the targets whose valid inputs only Plumb's own writers make: a published
/// segment and a write-ahead log file of a few spans each (the fuzzer mutates from there).
enum Seeds {
    static func write(into corpus: String) throws {
        let tmp = makeTempDirectory("plumb-fuzz-seed")
        defer { try? FileManager.default.removeItem(atPath: tmp) }
        for (k, compression) in [WriteAheadLog.Compression.never, .always].enumerated() {
            var gen = TestSpans(seed: 7)
            let dir = DataDirectory(tmp + "/data-\(k)")
            var o = StoreOptions.manual(rowGroupSize: 8)
            o.walCompression = compression
            let store = try SpanStore(directory: dir, options: o)
            for s in gen.spans(20, bodies: true) { store.append(s) }
            try store.sync()
            for s in gen.spans(6, from: 20, bodies: true) { store.append(s) }
            try store.flush()
            let suffix = compression == .always ? "-lz4" : ""
            let segment = FileSystem.list(dir.segments).first { $0.hasSuffix(".plseg") }.map { dir.segment($0) }
            let wal = FileSystem.list(dir.wal).last.map { dir.wal + "/" + $0 }
            for (sub, from) in [("segment", compression == .never ? segment : nil), ("wal", wal)] {
                guard let from else { continue }
                try FileSystem.makeDirectory(corpus + "/" + sub)
                let bytes = try FileSystem.readAll(from)
                FileManager.default.createFile(atPath: corpus + "/" + sub + "/seed-store" + suffix, contents: Data(bytes))
                print("\(sub)\(suffix): \(bytes.count) bytes")
            }
            if compression == .never { try pageSeeds(segment: segment, into: corpus + "/page") }
            try frameSeeds(wal: wal, into: corpus + "/frame", prefix: "seed" + suffix)
            try store.close()
        }
    }

    /// Each column's first page, its type's index in front (`PageTarget`).
    static func pageSeeds(segment: String?, into folder: String) throws {
        guard let segment else { return }
        let reader = try SegmentReader(path: segment)
        try FileSystem.makeDirectory(folder)
        for (c, column) in reader.footer.columns.enumerated() {
            let page = try reader.page(rowGroup: 0, column: c, fromFile: true)
            let type = UInt8(ColumnType.allCases.firstIndex(of: column.type)!)
            FileManager.default.createFile(atPath: folder + "/seed-\(column.name)", contents: Data([type] + page))
        }
        print("page: \(reader.footer.columns.count) seeds")
    }

    /// The frames of a WAL file, each payload alone (`FrameTarget`): `u32 length, u32 crc, payload`.
    static func frameSeeds(wal: String?, into folder: String, prefix: String) throws {
        guard let wal else { return }
        let bytes = try FileSystem.readAll(wal)
        try FileSystem.makeDirectory(folder)
        var pos = WriteAheadLog.headerSize, k = 0
        while pos + 8 <= bytes.count {
            let len = Int(bytes[pos]) | Int(bytes[pos + 1]) << 8 | Int(bytes[pos + 2]) << 16 | Int(bytes[pos + 3]) << 24
            guard len > 0, pos + 8 + len <= bytes.count else { break }
            FileManager.default.createFile(atPath: folder + "/\(prefix)-\(k)", contents: Data(bytes[(pos + 8)..<(pos + 8 + len)]))
            pos += 8 + len
            k += 1
        }
        print("frame: \(k) seeds")
    }

    struct SeedError: Error, CustomStringConvertible { let description: String }
}
#endif
