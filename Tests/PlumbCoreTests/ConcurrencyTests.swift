import XCTest
import Foundation
@testable import PlumbCore

final class ConcurrencyTests: XCTestCase {
    final class Log: @unchecked Sendable {
        let lock = NSLock()
        var steps: [Int] = []
        func add(_ k: Int) { lock.lock(); steps.append(k); lock.unlock() }
    }

    func testStepsRunInOrderWhateverOrderJobsFinishIn() throws {
        let turns = InTurn(), jobs = ParallelJobs(), log = Log()
        for k in 0..<12 {
            _ = jobs.add {
                // Even jobs take longer, so odd ones reach their step first and must wait.
                Thread.sleep(forTimeInterval: k % 2 == 0 ? 0.01 : 0)
                try turns.step(k) { log.add(k) }
            }
        }
        try jobs.run(lanes: 3)
        XCTAssertEqual(log.steps, Array(0..<12))
    }

    func testAFailedJobReleasesTheJobsWaitingForItsTurn() {
        struct Boom: Error {}
        let turns = InTurn(), jobs = ParallelJobs(), log = Log()
        for k in 0..<6 {
            _ = jobs.add {
                do {
                    if k == 2 { throw Boom() }
                    try turns.step(k) { log.add(k) }
                } catch {
                    turns.abandon(error)
                    throw error
                }
            }
        }
        XCTAssertThrowsError(try jobs.run(lanes: 2))   // returns: nobody waits forever
        XCTAssertEqual(log.steps, [0, 1])
    }
}
