/// Prometheus's text exposition format, the parts that every `/_plumb/metrics` writer shares.
///
/// ```swift
/// "plumb_x{rule=\"\(PrometheusText.escapeLabel(name))\"} 1"
/// ```
public enum PrometheusText {
    /// A label value: backslash, double quote and line feed escaped, as the format requires
    /// (a raw line feed would end the sample line).
    public static func escapeLabel(_ s: String) -> String {
        s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"").replacingOccurrences(of: "\n", with: "\\n")
    }
}
