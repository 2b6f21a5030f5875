#if !PLUMB_FUZZ
import Foundation

/// Without libFuzzer: `plumb-fuzz replay TARGET PATH...` runs every file under each path through
/// the target (the committed corpus as a regression test), `plumb-fuzz seed DIR` writes the seed
/// inputs that need Plumb's own writers (segments, WAL files), `plumb-fuzz list` names the targets.
@main
struct Replay {
    static func main() throws {
        let args = Array(CommandLine.arguments.dropFirst())
        switch args.first {
        case "list":
            for t in FuzzTargets.all { print("\(t.name)\t\(t.summary)") }
        case "replay" where args.count >= 3:
            guard let target = FuzzTargets.named(args[1]) else { fail("no target \(args[1])") }
            var count = 0
            for path in args.dropFirst(2) {
                for file in files(under: path) {
                    target.run(Array(try Data(contentsOf: URL(fileURLWithPath: file))))
                    count += 1
                }
            }
            print("\(target.name): \(count) inputs, no crash")
        case "seed" where args.count == 2:
            try Seeds.write(into: args[1])
        default:
            fail("usage: plumb-fuzz list | replay TARGET PATH... | seed DIR")
        }
    }

    static func files(under path: String) -> [String] {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir) else { return [] }
        guard isDir.boolValue else { return [path] }
        let names = (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []
        return names.sorted().flatMap { files(under: path + "/" + $0) }
    }

    static func fail(_ message: String) -> Never {
        FileHandle.standardError.write(Data("plumb-fuzz: \(message)\n".utf8))
        exit(2)
    }
}
#endif
