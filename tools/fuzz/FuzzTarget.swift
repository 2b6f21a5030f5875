import Foundation

/// One parser of untrusted bytes, driven by libFuzzer (`LLVMFuzzerTestOneInput`) or, in an
/// ordinary build, by `plumb-fuzz replay TARGET FILE...` over a committed corpus. A target must
/// never crash, hang or grow without bound on any input; throwing is its way to refuse one.
///
/// ```
/// swift build --scratch-path .build-fuzz --sanitize=fuzzer -Xswiftc -DPLUMB_FUZZ --product plumb-fuzz
/// PLUMB_FUZZ_TARGET=sql .build-fuzz/debug/plumb-fuzz tools/fuzz/corpus/sql -max_total_time=60
/// ```
protocol FuzzTarget {
    static var name: String { get }
    /// What the target reads (`plumb-fuzz list`).
    static var summary: String { get }
    static func run(_ bytes: [UInt8])
}

enum FuzzTargets {
    nonisolated(unsafe) static let all: [any FuzzTarget.Type] = [
        SQLTarget.self, TOMLTarget.self, JSONTarget.self, ResponseTarget.self, RequestTarget.self, UpstreamTarget.self,
        SegmentTarget.self, WALTarget.self, PageTarget.self, FrameTarget.self, ExportTarget.self, ControlTarget.self, CloudTarget.self,
    ]

    static func named(_ name: String) -> (any FuzzTarget.Type)? { all.first { $0.name == name } }
}

/// Chosen once per process by `PLUMB_FUZZ_TARGET` (libFuzzer calls in with bytes only).
nonisolated(unsafe) let selectedTarget: (any FuzzTarget.Type)? = {
    let name = ProcessInfo.processInfo.environment["PLUMB_FUZZ_TARGET"] ?? ""
    guard let t = FuzzTargets.named(name) else {
        FileHandle.standardError.write(Data("plumb-fuzz: set PLUMB_FUZZ_TARGET to one of \(FuzzTargets.all.map { $0.name })\n".utf8))
        exit(2)
    }
    return t
}()

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? []
    selectedTarget?.run(bytes)
    return 0
}
