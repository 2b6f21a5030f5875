import Foundation
import PlumbCore
import PlumbExport

/// `plumb-bench export [--spans 1000] [--runs 20] [--bodies]`: CPU per span of each step an
/// exporter takes for a batch, in process: the GenAI mapping (`OTLPSpan`), OTLP protobuf and
/// JSON encoding, gzip, and ClickHouse's RowBinary. Median per run, per span. Figures only.
enum ExportBench {
    static func run(_ args: [String]) -> Int32 {
        var spans = 1_000, runs = 20, bodies = false
        var i = 0
        while i < args.count {
            switch args[i] {
            case "--spans": spans = Int(args[i + 1]) ?? spans; i += 2
            case "--runs": runs = Int(args[i + 1]) ?? runs; i += 2
            case "--bodies": bodies = true; i += 1
            default: i += 1
            }
        }
        let batch = (0..<spans).map { n in Self.span(n, bodies: bodies) }
        let info = OTLPSpan.ProviderInfo(Provider(name: "openai", baseURL: "https://api.openai.com", shape: .openai))
        let resource = OTLPResource(serviceName: "plumb", instanceID: "bench", hostName: "h", scopeVersion: "0")
        func time(_ label: String, _ body: () throws -> Int) rethrows {
            var samples: [Double] = []
            var size = 0
            for _ in 0..<runs {
                let t0 = DispatchTime.now().uptimeNanoseconds
                size = try body()
                samples.append(Double(DispatchTime.now().uptimeNanoseconds - t0) / 1000 / Double(spans))
            }
            samples.sort()
            print("export \(label): \(String(format: "%.2f", samples[samples.count / 2])) us/span" + (size > 0 ? ", \(size / spans) bytes/span" : ""))
        }
        let mapped = batch.map { OTLPSpan($0, provider: info, bodies: bodies) }
        do {
            time("map (OTLPSpan\(bodies ? " with GenAI messages" : ""))") { batch.map { OTLPSpan($0, provider: info, bodies: bodies) }.count * 0 }
            time("otlp protobuf encode (OTLPWire)") { OTLPProtobuf.request(mapped, resource: resource).count }
            try time("otlp protobuf encode (swift-protobuf messages)") { try OTLPProtobuf.message(mapped, resource: resource).count }
            time("otlp json encode") { OTLPJSON.request(mapped, resource: resource).count }
            let pb = OTLPProtobuf.request(mapped, resource: resource)
            try time("gzip level 1 of the protobuf") { try Gzip.compress(pb).count }
            time("clickhouse rowbinary") { ClickHouseSchema.spanRows(batch, instance: "bench").count }
            let rb = ClickHouseSchema.spanRows(batch, instance: "bench")
            try time("gzip level 1 of the rowbinary") { try Gzip.compress(rb).count }
        } catch {
            FileHandle.standardError.write(Data("plumb-bench export: \(error)\n".utf8))
            return 1
        }
        return 0
    }

    static func span(_ n: Int, bodies: Bool) -> Span {
        let t = Int64(1_795_255_200_000_000) + Int64(n) * 1_000
        var s = Span(spanID: SpanID.make(millis: UInt64(t / 1000), random: UInt64(n) &* 0x9E37_79B9_7F4A_7C15, UInt64(n)),
                     traceID: n % 2 == 0 ? Hex.encode((0..<16).map { UInt8(truncatingIfNeeded: $0 &+ n) }) : nil,
                     sessionID: "sess-\(n % 50)", userID: "usr_\(n % 5000)", tsStart: t, tsEnd: t + 1_234_000,
                     latencyMs: 1234, ttftMs: n % 2 == 0 ? 210 : nil, upstreamMs: 1230, provider: "openai",
                     modelRequested: "gpt-4o", model: "gpt-4o-2024-08-06", operation: "chat", endpoint: "/v1/chat/completions",
                     method: "POST", stream: n % 2 == 0, status: 200, finishReason: "stop", inputTokens: 1_200, outputTokens: 300,
                     cacheReadTokens: 1_000, cacheWriteTokens: 0, reasoningTokens: 0, costUSD: 0.004_75, requestBytes: 1_500,
                     responseBytes: 1_100, apiKeyHash: "3fa0c1d29b7e4a55", properties: ["team": "search", "env": "prod"])
        if bodies {
            s.requestBody = #"{"model":"gpt-4o","messages":[{"role":"system","content":"You are terse."},{"role":"user","content":"Summarise span \#(n) in one line."}]}"#
            s.responseBody = #"{"id":"chatcmpl-\#(n)","choices":[{"index":0,"message":{"role":"assistant","content":"A span is one call."},"finish_reason":"stop"}],"usage":{"prompt_tokens":1200,"completion_tokens":300}}"#
        }
        return s
    }
}
