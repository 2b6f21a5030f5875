import Foundation
import PlumbCore

/// The maintenance thread: compaction and retention every `maintenanceInterval` (or at once on
/// `maintainNow()`), with its own catalog connection, beside the publisher.
extension SpanStore {
    func maintainerLoop() {
        var next = Self.now() + options.maintenanceInterval
        while true {
            var stop = false
            while true {
                cond.lock()
                let due = maintenanceWanted || stopping || Self.now() >= next
                stop = stopping
                cond.unlock()
                if due { break }
                maintainerBell.wait(until: Date(timeIntervalSince1970: next))
            }
            if stop { break }
            do {
                try Maintenance(store: self).run()
            } catch {
                cond.lock(); counters.lastError = "maintenance: \(error)"; cond.unlock()
            }
            // Compaction's row groups and a burst's blocks are freed by now: give the pages back.
            if options.releaseMemoryAfterMaintenance { MemoryTuning.releaseFree() }
            next = Self.now() + options.maintenanceInterval
            cond.lock(); maintenanceRuns += 1; maintenanceWanted = false; cond.broadcast(); cond.unlock()
        }
        cond.lock(); maintainerDone = true; cond.broadcast(); cond.unlock()
    }
}
