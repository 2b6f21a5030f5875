import XCTest
import PlumbCore
import PlumbTestSupport
@testable import PlumbStore

final class WALTests: XCTestCase {
    var dir = ""
    override func setUp() { dir = makeTempDirectory() }
    override func tearDown() { try? FileManagerLite.removeTree(dir) }

    @discardableResult
    func writeBatches(_ spans: [Span], batch: Int, compression: WriteAheadLog.Compression = .adaptive) throws -> WriteAheadLog.Writer {
        let w = try WriteAheadLog.Writer(directory: dir, firstSeq: 1, compression: compression)
        var seq: UInt64 = 1
        for start in stride(from: 0, to: spans.count, by: batch) {
            let slice = spans[start..<min(spans.count, start + batch)]
            try w.append(slice, firstSeq: seq)
            seq += UInt64(slice.count)
        }
        return w
    }

    func testReplayReturnsEverythingAfterPublished() throws {
        var gen = TestSpans(seed: 11)
        let spans = gen.spans(1_000, bodies: true)
        for compression in [WriteAheadLog.Compression.always, .never] {
            try? FileManagerLite.removeTree(dir)
            dir = makeTempDirectory()
            let w = try writeBatches(spans, batch: 100, compression: compression)
            XCTAssertEqual(w.compressedCommits, compression == .always ? 10 : 0)
            let all = try WriteAheadLog.replay(directory: dir, publishedSeq: 0)
            XCTAssertEqual(all.spans.count, 1_000)
            XCTAssertTrue(zip(all.spans.map(\.span), spans).allSatisfy { sameSpan($0, $1) }, "\(compression)")
        }
        let all = try WriteAheadLog.replay(directory: dir, publishedSeq: 0)
        XCTAssertEqual(all.spans.count, 1_000)
        XCTAssertEqual(all.nextSeq, 1_001)
        XCTAssertTrue(zip(all.spans.map(\.span), spans).allSatisfy { sameSpan($0, $1) })
        let tail = try WriteAheadLog.replay(directory: dir, publishedSeq: 950)
        XCTAssertEqual(tail.spans.map(\.seq), Array(951...1000))
        XCTAssertTrue(tail.problems.isEmpty)
    }

    func testTornTailIsTruncatedAtTheLastGoodFrame() throws {
        var gen = TestSpans(seed: 12)
        try writeBatches(gen.spans(500), batch: 100)
        let path = dir + "/" + WriteAheadLog.files(in: dir)[0].name
        let full = try FileSystem.readAll(path)
        // Cut inside the last frame: the first four frames (400 spans) survive.
        for cut in [full.count - 1, full.count - 300] {
            try FileSystem.writeAtomically(path, Array(full.prefix(cut)))
            let r = try WriteAheadLog.replay(directory: dir, publishedSeq: 0)
            XCTAssertEqual(r.spans.count, 400)
            XCTAssertEqual(r.problems.count, 1)
            let again = try WriteAheadLog.replay(directory: dir, publishedSeq: 0)
            XCTAssertEqual(again.spans.count, 400)
            XCTAssertTrue(again.problems.isEmpty, "truncation should leave a clean log")
            try FileSystem.writeAtomically(path, full)
        }
    }

    func testCorruptFrameEndsItsFileAndLaterFilesStillReplay() throws {
        var gen = TestSpans(seed: 13)
        let w = try WriteAheadLog.Writer(directory: dir, firstSeq: 1)
        try w.append(gen.spans(10)[...], firstSeq: 1)
        try w.append(gen.spans(10)[...], firstSeq: 11)
        try w.rotate(firstSeq: 21)
        try w.append(gen.spans(10)[...], firstSeq: 21)
        let first = dir + "/" + WriteAheadLog.files(in: dir)[0].name
        var bytes = try FileSystem.readAll(first)
        bytes[bytes.count - WriteAheadLog.endMarker.count - 5] ^= 0xFF    // inside frame 2, before the end marker
        try FileSystem.writeAtomically(first, bytes)
        let r = try WriteAheadLog.replay(directory: dir, publishedSeq: 0)
        XCTAssertEqual(r.spans.map(\.seq), Array(1...10) + Array(21...30), "the later file holds acknowledged spans")
        XCTAssertEqual(r.nextSeq, 31)
        XCTAssertEqual(r.problems.count, 1)
        XCTAssertTrue(try WriteAheadLog.replay(directory: dir, publishedSeq: 0).problems.isEmpty, "truncated clean")
    }

    func testUnreadableFilesAreSetAsideAndEmptyOldVersionsIgnored() throws {
        try FileSystem.writeAtomically(dir + "/" + WriteAheadLog.fileName(firstSeq: 1), Array("garbage, not a log".utf8))
        var old = ByteWriter(); old.append(WriteAheadLog.magic); old.u32(1); old.u64(5)
        try FileSystem.writeAtomically(dir + "/" + WriteAheadLog.fileName(firstSeq: 5), old.bytes)
        let r = try WriteAheadLog.replay(directory: dir, publishedSeq: 0)
        XCTAssertTrue(r.spans.isEmpty)
        XCTAssertEqual(FileSystem.list(dir + "/corrupt"), [WriteAheadLog.fileName(firstSeq: 1)])
        XCTAssertTrue(WriteAheadLog.files(in: dir).isEmpty, "a header-only log of another version has nothing to replay")
        old.append([1, 2, 3])
        try FileSystem.writeAtomically(dir + "/" + WriteAheadLog.fileName(firstSeq: 5), old.bytes)
        XCTAssertThrowsError(try WriteAheadLog.replay(directory: dir, publishedSeq: 0)) { e in
            XCTAssertTrue("\(e)".contains("version 1 holds unpublished spans"), "\(e)")
        }
    }

    func testReleaseKeepsTheNewestFile() throws {
        var gen = TestSpans(seed: 14)
        let w = try WriteAheadLog.Writer(directory: dir, firstSeq: 1)
        try w.append(gen.spans(5)[...], firstSeq: 1)
        try w.rotate(firstSeq: 6)
        try w.append(gen.spans(5)[...], firstSeq: 6)
        WriteAheadLog.release(directory: dir, publishedSeq: 4)
        XCTAssertEqual(WriteAheadLog.files(in: dir).count, 2)
        WriteAheadLog.release(directory: dir, publishedSeq: 5)
        XCTAssertEqual(WriteAheadLog.files(in: dir).map(\.firstSeq), [6])
        WriteAheadLog.release(directory: dir, publishedSeq: 10)
        XCTAssertEqual(WriteAheadLog.files(in: dir).count, 1)
    }

    func testRecycledFilesReplayOnlyTheirNewFrames() throws {
        var gen = TestSpans(seed: 15)
        let five = gen.spans(5)
        let w = try WriteAheadLog.Writer(directory: dir, firstSeq: 1, compression: .never)
        for k in 0..<40 { try w.append(five[...], firstSeq: UInt64(1 + 5 * k)) }   // 40 frames, seq 1...200
        try w.rotate(firstSeq: 201)
        try w.append(gen.spans(10)[...], firstSeq: 201)
        WriteAheadLog.release(directory: dir, publishedSeq: 200)
        XCTAssertEqual(WriteAheadLog.Recycling.names(in: dir).count, 1, "the released file is kept for reuse")
        let firstLife = FileSystem.fileSize(dir + "/" + WriteAheadLog.Recycling.names(in: dir)[0])
        try w.rotate(firstSeq: 211)
        XCTAssertTrue(WriteAheadLog.Recycling.names(in: dir).isEmpty)
        let newest = dir + "/" + WriteAheadLog.fileName(firstSeq: 211)
        XCTAssertEqual(FileSystem.fileSize(newest), firstLife, "overwritten in place, not truncated")
        // Same spans, so the new frame ends exactly where the old second frame (seq 6) begins: a
        // checksum-valid frame from the file's first life, which must end the file cleanly.
        try w.append(five[...], firstSeq: 211)
        let r = try WriteAheadLog.replay(directory: dir, publishedSeq: 200)
        XCTAssertEqual(r.spans.map(\.seq), Array(201...215))
        XCTAssertTrue(zip(r.spans.suffix(5).map(\.span), five).allSatisfy { sameSpan($0, $1) })
        XCTAssertEqual(r.problems, [])
        // A finished file marks where its frames end, whatever follows from its first life.
        try w.rotate(firstSeq: 216)
        var bytes = try FileSystem.readAll(newest)
        XCTAssertEqual(bytes.count, firstLife, "left at its size: its page cache stays for the next life")
        let frameEnd = 20 + (bytes.count - 20) / 40
        XCTAssertEqual(Array(bytes[frameEnd..<frameEnd + 8]), WriteAheadLog.endMarker)
        bytes[frameEnd + 8] ^= 0xFF                       // the old frame after it no longer checks out
        try FileSystem.writeAtomically(newest, bytes)
        let again = try WriteAheadLog.replay(directory: dir, publishedSeq: 200)
        XCTAssertEqual(again.spans.map(\.seq), Array(201...215))
        XCTAssertEqual(again.problems, [])
        let keep = WriteAheadLog.Recycling.keep
        for k in 0..<keep { try FileSystem.writeAtomically(dir + "/recycled-\(k).log", [1]) }
        WriteAheadLog.release(directory: dir, publishedSeq: 215)
        XCTAssertEqual(WriteAheadLog.Recycling.names(in: dir).count, keep, "beyond the kept few, released files are deleted")
        XCTAssertEqual(WriteAheadLog.files(in: dir).map(\.firstSeq), [216])
    }

    func testTailReadsTheFramesAndNotWhatARecycledFileHoldsBeyondThem() throws {
        var gen = TestSpans(seed: 16)
        let spans = gen.spans(300, bodies: true)
        let w = try writeBatches(spans, batch: 100, compression: .never)    // seq 1...300, 3 frames
        w.finish()
        let path = dir + "/" + WriteAheadLog.files(in: dir)[0].name
        let frames = try FileSystem.readAll(path)
        // An earlier life's 8 MB beyond the end marker, as a recycled file has.
        let f = try FileDescriptor(path: path, flags: O_WRONLY)
        try f.seekToEnd()
        try f.write([UInt8](repeating: 0xA5, count: 8 << 20))
        for after: UInt64 in [0, 150, 300] {
            let tail = WriteAheadLog.tail(directory: dir, after: after)
            XCTAssertFalse(tail.missedPublish)
            XCTAssertEqual(tail.spans.count, 300 - Int(after))
            XCTAssertTrue(zip(tail.spans, spans[Int(after)...]).allSatisfy { sameSpan($0, $1) }, "after \(after)")
            XCTAssertLessThanOrEqual(tail.bytesRead, frames.count + WriteAheadLog.FrameFile.readAhead, "after \(after)")
        }
        XCTAssertEqual(try WriteAheadLog.replay(directory: dir, publishedSeq: 120).spans.map(\.seq), Array(121...300))
    }

    /// Simulates commits whose costs follow a disk of `ioNanosPerByte` (plus a fixed latency) and
    /// LZ4 at 2 ns a byte shrinking records to 0.56; returns how many of `commits` were compressed.
    func compressedCommits(ioNanosPerByte: Double, commits: Int = 320) -> Int {
        var p = WriteAheadLog.CompressionPolicy(.adaptive)
        var compressed = 0
        for i in 0..<commits {
            let raw = 4_000_000 + (i % 7) * 1_000_000
            let written = p.compress ? raw * 56 / 100 : raw
            if p.compress { compressed += 1 }
            let framing = Double(raw) * (p.compress ? 2.1 : 0.1)
            p.observe(rawBytes: raw, writtenBytes: written, framingNanos: UInt64(framing),
                      ioNanos: UInt64(500_000 + Double(written) * ioNanosPerByte))
        }
        return compressed
    }

    func testCompressionIsUsedOnlyWhileTheDiskIsTheBottleneck() {
        // 1 GB/s: writing raw is cheaper than compressing; only the periodic probes compress.
        let fast = compressedCommits(ioNanosPerByte: 1)
        XCTAssertGreaterThan(fast, 0, "probes keep the LZ4 figures current")
        XCTAssertLessThanOrEqual(fast, 320 / WriteAheadLog.CompressionPolicy.probeEvery + 2)
        // 100 MB/s: LZ4 saves far more disk time than it costs.
        let slow = compressedCommits(ioNanosPerByte: 10)
        XCTAssertGreaterThanOrEqual(slow, 320 - 320 / WriteAheadLog.CompressionPolicy.probeEvery - 2)
        var fixed = WriteAheadLog.CompressionPolicy(.always)
        fixed.observe(rawBytes: 1 << 20, writtenBytes: 1 << 20, framingNanos: 1, ioNanos: 1)
        XCTAssertTrue(fixed.compress)
        XCTAssertFalse(WriteAheadLog.CompressionPolicy(.never).compress)
    }
}
