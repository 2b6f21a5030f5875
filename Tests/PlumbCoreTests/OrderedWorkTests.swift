import Foundation
import XCTest
@testable import PlumbCore

/// `OrderedWork` hands outputs back in the order inputs went in, however long each takes, and
/// each thread keeps its own worker.
final class OrderedWorkTests: XCTestCase {
    func testOutputsComeBackInInputOrder() {
        let workers = Counter()
        let work = OrderedWork<Int, (Int, ObjectIdentifier)>(threads: 3, name: "test-work") {
            let scratch = Counter()           // one per thread: never touched by two at once
            workers.add()
            return { n in
                scratch.add()
                usleep(useconds_t((n * 7_919) % 5 * 1_000))   // finishing out of order
                return (n * n, ObjectIdentifier(scratch))
            }
        }
        var got: [Int] = []
        var scratches = Set<ObjectIdentifier>()
        for n in 0..<200 {
            if work.pending >= 6, let (v, s) = work.next() { got.append(v); scratches.insert(s) }
            work.submit(n)
        }
        while let (v, s) = work.next() { got.append(v); scratches.insert(s) }
        XCTAssertNil(work.next(), "nothing pending")
        work.close()
        XCTAssertEqual(got, (0..<200).map { $0 * $0 })
        XCTAssertEqual(workers.value, 3)
        XCTAssertLessThanOrEqual(scratches.count, 3)
    }

    final class Counter: @unchecked Sendable {
        private let lock = NSLock()
        private var n = 0
        func add() { lock.lock(); n += 1; lock.unlock() }
        var value: Int { lock.lock(); defer { lock.unlock() }; return n }
    }
}
