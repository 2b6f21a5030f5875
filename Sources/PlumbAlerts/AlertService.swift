import Foundation
import PlumbCore
import PlumbStore

/// Runs the alert rules inside `plumb serve`: each rule is evaluated every `interval`; what
/// changed goes to the catalog's outbox with the new state (one transaction); a sender drains
/// the outbox, retrying a failing target with backoff. Counters for `/_plumb/metrics`.
///
/// ```swift
/// let alerts = AlertService(directory: dir, rules: settings.rules, budgets: { server.budgetStatuses() }) { print($0) }
/// alerts.start(); defer { alerts.stop() }
/// ```
public final class AlertService: @unchecked Sendable {
    public let directory: DataDirectory
    public let rules: [AlertRule]
    let evaluator: AlertEvaluator
    let log: @Sendable (String) -> Void
    public var sender = AlertSender()
    /// How often the loop wakes (rules run when their interval is due; the outbox every tick).
    public var tick = 1.0
    private let lock = NSLock()
    private var thread: PeriodicThread?
    private var nextRun: [String: Double] = [:]
    /// Used by the service's thread only (or by one caller of `runOnce` at a time).
    private var openCatalog: Catalog?
    private var nextPrune: Double = 0
    private var counters = Counters()

    /// What `/_plumb/metrics` shows.
    public struct Counters: Sendable {
        public var sent: [String: Int64] = [:]
        public var failedAttempts: [String: Int64] = [:]
        public var givenUp: [String: Int64] = [:]
        public var evaluationErrors: [String: Int64] = [:]
        public var pending: Int64 = 0
    }

    public init(directory: DataDirectory, rules: [AlertRule], budgets: @escaping @Sendable () -> [BudgetStatus],
                log: @escaping @Sendable (String) -> Void) {
        self.directory = directory; self.rules = rules; self.log = log
        evaluator = AlertEvaluator(directory: directory, budgets: budgets)
    }

    public var snapshot: Counters { lock.lock(); defer { lock.unlock() }; return counters }

    public func start() {
        guard !rules.isEmpty else { return }
        let t = PeriodicThread(name: "plumb-alerts", every: { [self] in tick }) { [self] in runOnce(now: Timestamp.nowMicros()) }
        thread = t
        t.start()
    }

    public func stop() { thread?.stop() }

    /// Evaluates the rules that are due, then sends what the outbox holds that is due.
    public func runOnce(now: Int64) {
        // One connection for the service's life: opening the catalog writes (its migration), and
        // this runs every tick.
        if openCatalog == nil {
            do { openCatalog = try Catalog(path: directory.catalog) } catch { return log("alerts: cannot open the catalog: \(error)") }
        }
        guard let catalog = openCatalog else { return }
        let clock = Double(now) / 1e6
        for rule in rules where (nextRun[rule.name] ?? 0) <= clock {
            nextRun[rule.name] = clock + rule.interval
            do {
                let firing = try evaluator.firing(rule.kind, now: now)
                let events = try catalog.applyAlert(rule: rule.name, kind: rule.kind.name, firing: firing, targets: rule.targets.map(\.name), now: now)
                for e in events { log("alerts: \(rule.name): \(e.event) \(e.instance.key) (\(e.instance.state))") }
            } catch {
                count(\.evaluationErrors, rule.name)
                log("alerts: \(rule.name): cannot evaluate: \(error)")
            }
        }
        deliver(catalog, now: now)
        // Once an hour: messages sent or given up more than 30 days ago leave the outbox.
        if clock >= nextPrune {
            nextPrune = clock + 3600
            _ = try? catalog.pruneAlertMessages(before: now - Self.keptMicros)
        }
    }

    /// How long the outbox keeps a message once it is sent or given up.
    public static let keptMicros: Int64 = 30 * 86_400_000_000

    func deliver(_ catalog: Catalog, now: Int64) {
        let due: [Catalog.AlertMessage]
        do { due = try catalog.dueAlertMessages(now: now) } catch { return log("alerts: cannot read the outbox: \(error)") }
        for m in due {
            guard let rule = rules.first(where: { $0.name == m.rule }), let target = rule.targets.first(where: { $0.name == m.target }),
                  let event = AlertEvent.parse(m.payload) else {
                try? catalog.markAlertFailed(m.id, error: "rule or target no longer configured", retryAt: nil)
                continue
            }
            do {
                try sender.send(event, to: target)
                try catalog.markAlertSent(m.id, at: Timestamp.nowMicros())
                count(\.sent, "\(m.rule)|\(m.target)")
            } catch {
                let retry = AlertSender.retryDelay(afterAttempts: m.attempts + 1)
                try? catalog.markAlertFailed(m.id, error: "\(error)", retryAt: retry.map { now + Int64($0 * 1e6) })
                count(\.failedAttempts, "\(m.rule)|\(m.target)")
                if retry == nil { count(\.givenUp, "\(m.rule)|\(m.target)") }
                log("alerts: \(m.rule) to \(m.target): attempt \(m.attempts + 1) failed: \(error)"
                    + (retry.map { "; retrying in \(Int($0)) s" } ?? "; given up"))
            }
        }
        let pending = (try? catalog.pendingAlertMessages()) ?? 0
        lock.lock(); counters.pending = pending; lock.unlock()
    }

    private func count(_ field: WritableKeyPath<Counters, [String: Int64]>, _ key: String) {
        lock.lock(); counters[keyPath: field][key, default: 0] += 1; lock.unlock()
    }

    /// Prometheus text for `/_plumb/metrics`.
    public func metricsText() -> String {
        let c = snapshot
        var out = "# HELP plumb_alert_messages_sent_total Alert messages delivered, by rule and target.\n# TYPE plumb_alert_messages_sent_total counter\n"
        func labels(_ k: String) -> String {
            let parts = k.split(separator: "|", maxSplits: 1).map { PrometheusText.escapeLabel(String($0)) }
            return "rule=\"\(parts[0])\"" + (parts.count > 1 ? ",target=\"\(parts[1])\"" : "")
        }
        for (k, v) in c.sent.sorted(by: { $0.key < $1.key }) { out += "plumb_alert_messages_sent_total{\(labels(k))} \(v)\n" }
        out += "# HELP plumb_alert_delivery_failures_total Failed delivery attempts (each retried with backoff).\n# TYPE plumb_alert_delivery_failures_total counter\n"
        for (k, v) in c.failedAttempts.sorted(by: { $0.key < $1.key }) { out += "plumb_alert_delivery_failures_total{\(labels(k))} \(v)\n" }
        out += "# HELP plumb_alert_messages_given_up_total Messages dropped after \(AlertSender.maxAttempts) attempts.\n# TYPE plumb_alert_messages_given_up_total counter\n"
        for (k, v) in c.givenUp.sorted(by: { $0.key < $1.key }) { out += "plumb_alert_messages_given_up_total{\(labels(k))} \(v)\n" }
        out += "# HELP plumb_alert_evaluation_errors_total Rule evaluations that failed.\n# TYPE plumb_alert_evaluation_errors_total counter\n"
        for (k, v) in c.evaluationErrors.sorted(by: { $0.key < $1.key }) { out += "plumb_alert_evaluation_errors_total{\(labels(k))} \(v)\n" }
        out += "# HELP plumb_alert_messages_pending Alert messages waiting in the outbox.\n# TYPE plumb_alert_messages_pending gauge\nplumb_alert_messages_pending \(c.pending)\n"
        return out
    }
}
