import Foundation
import PlumbCore
import PlumbQuery
import PlumbStore

/// Sends digests on schedule inside `plumb serve`: every `checkEvery` seconds it asks the sent
/// log in the catalog which periods each target still lacks (`DigestSchedule.due`), builds and
/// sends those, and records each success, so a restart neither sends a period twice nor skips
/// one, and a server that was down catches up when it starts.
///
/// ```swift
/// let s = DigestScheduler(directory: dir, settings: settings, schedule: schedule) { print($0) }
/// s.start()
/// ```
public final class DigestScheduler: @unchecked Sendable {
    public let directory: DataDirectory
    public let settings: DigestSettings
    public let schedule: DigestSchedule
    public var checkEvery = 30.0
    /// Prices for cache savings (the built-in catalog with the config's overrides).
    public var prices = PriceCatalog.builtIn
    public var priceKeys: [String: PriceKey] = [:]
    /// After a failed delivery round, wait this long before trying that target again.
    public var backoffAfterFailure = 300.0
    let log: @Sendable (String) -> Void
    var retryAt: [String: Date] = [:]
    private var thread: PeriodicThread?

    public init(directory: DataDirectory, settings: DigestSettings, schedule: DigestSchedule, log: @escaping @Sendable (String) -> Void) {
        self.directory = directory; self.settings = settings; self.schedule = schedule; self.log = log
    }

    public func start() {
        let t = PeriodicThread(name: "plumb-digest", every: { [self] in checkEvery }) { [self] in runOnce(now: Timestamp.nowMicros()) }
        thread = t
        t.start()
    }

    public func stop() { thread?.stop() }

    /// One round: every due period to every target. Returns how many digests went out.
    @discardableResult
    public func runOnce(now: Int64) -> Int {
        var sent = 0
        let catalog: Catalog
        do { catalog = try Catalog(path: directory.catalog) } catch { log("digest: cannot open the catalog: \(error)"); return 0 }
        for target in settings.targets {
            if let wait = retryAt[target.name], wait > Date() { continue }
            let last: String?
            do { last = try catalog.lastDigest(period: schedule.kind.rawValue, target: target.name) } catch {
                log("digest: cannot read the sent log: \(error)"); continue
            }
            for p in schedule.due(now: now, lastSent: last) {
                do {
                    var builder = DigestBuilder(engine: QueryEngine(directory: directory, now: now))
                    builder.top = settings.top
                    builder.prices = prices
                    builder.priceKeys = priceKeys
                    let digest = try builder.build(p)
                    try DigestDelivery(retries: settings.retries, retryDelay: settings.retryDelay).send(digest, to: target) { log("digest: \($0)") }
                    try catalog.recordDigest(period: p.kind.rawValue, firstDay: p.firstDay, timezone: p.timezone, target: target.name,
                                             sentAt: Timestamp.nowMicros())
                    log("digest: \(p.label) sent to \(target.name)")
                    sent += 1
                } catch {
                    log("digest: \(p.label) not sent: \(error)")
                    retryAt[target.name] = Date().addingTimeInterval(backoffAfterFailure)
                    break       // later periods wait, so none is skipped
                }
            }
        }
        return sent
    }
}
