import PlumbCore

extension IncidentSettings {
    /// Reads `[incidents]` from the config file: `error_rate`, `min_requests`, `min_failures`,
    /// `outage_min_requests`, `latency_multiple`, `baseline_minutes`, `merge_gap_minutes`.
    /// An unknown key or a value out of range is an error naming it.
    public init(config: PlumbConfig) throws {
        self.init()
        guard let table = config.file["incidents"] else { return }
        guard case .object(let keys) = table else { throw PlumbConfig.Error("[incidents] must be a table") }
        func number(_ k: String, _ v: JSONValue) throws -> Double {
            switch v {
            case .int(let i): return Double(i)
            case .double(let d): return d
            default: throw PlumbConfig.Error("incidents.\(k) must be a number")
            }
        }
        func count(_ k: String, _ v: JSONValue, min lo: Int) throws -> Int {
            guard case .int(let i) = v, i >= lo, i <= 1_000_000_000 else { throw PlumbConfig.Error("incidents.\(k) must be a whole number ≥ \(lo)") }
            return Int(i)
        }
        for (k, v) in keys {
            switch k {
            case "error_rate":
                errorRate = try number(k, v)
                guard errorRate > 0, errorRate <= 1 else { throw PlumbConfig.Error("incidents.error_rate must be in (0, 1]") }
            case "latency_multiple":
                latencyMultiple = try number(k, v)
                guard latencyMultiple > 1 else { throw PlumbConfig.Error("incidents.latency_multiple must be above 1") }
            case "min_requests": minRequests = try count(k, v, min: 1)
            case "min_failures": minFailures = try count(k, v, min: 1)
            case "outage_min_requests": outageMinRequests = try count(k, v, min: 1)
            case "baseline_minutes": baselineMinutes = try count(k, v, min: 10)
            case "merge_gap_minutes": mergeGapMinutes = try count(k, v, min: 0)
            case "max_quiet_minutes": maxQuietMinutes = try count(k, v, min: 0)
            case "latency_min_requests": latencyMinRequests = try count(k, v, min: 2)
            case "latency_min_minutes": latencyMinMinutes = try count(k, v, min: 1)
            case "significance":
                significance = try number(k, v)
                guard significance > 0, significance < 1 else { throw PlumbConfig.Error("incidents.significance must be in (0, 1)") }
            default:
                throw PlumbConfig.Error("unknown key incidents.\(k) (known: error_rate, min_requests, min_failures, outage_min_requests, significance, latency_multiple, latency_min_requests, latency_min_minutes, baseline_minutes, merge_gap_minutes, max_quiet_minutes)")
            }
        }
    }
}
