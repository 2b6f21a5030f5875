import PlumbCore

/// Transposes spans to segment columns (`SegmentSchema.columns` order) and back.
///
/// ```swift
/// let cols = SpanColumns.columns(of: spans, bodyRefs: refs)
/// let again = try SpanColumns.spans(from: cols)    // bodies not filled in
/// ```
public enum SpanColumns {
    public static func columns(of spans: [Span], bodyRefs: [BodyRef?]? = nil) -> [ColumnVector] {
        let n = spans.count
        func str(_ f: (Span) -> String) -> ColumnVector {
            var v = [String](); v.reserveCapacity(n)
            for s in spans { v.append(f(s)) }
            return ColumnVector(.string(v))
        }
        func strOpt(_ f: (Span) -> String?) -> ColumnVector {
            var v = [String](), ok = [Bool](); v.reserveCapacity(n); ok.reserveCapacity(n)
            for s in spans { let x = f(s); v.append(x ?? ""); ok.append(x != nil) }
            return ColumnVector(.string(v), validity: ok)
        }
        func int(_ f: (Span) -> Int64) -> ColumnVector {
            var v = [Int64](); v.reserveCapacity(n)
            for s in spans { v.append(f(s)) }
            return ColumnVector(.int(v))
        }
        func intOpt(_ f: (Span) -> Int64?) -> ColumnVector {
            var v = [Int64](), ok = [Bool](); v.reserveCapacity(n); ok.reserveCapacity(n)
            for s in spans { let x = f(s); v.append(x ?? 0); ok.append(x != nil) }
            return ColumnVector(.int(v), validity: ok)
        }
        func dbl(_ f: (Span) -> Double) -> ColumnVector {
            var v = [Double](); v.reserveCapacity(n)
            for s in spans { v.append(f(s)) }
            return ColumnVector(.double(v))
        }
        func dblOpt(_ f: (Span) -> Double?) -> ColumnVector {
            var v = [Double](), ok = [Bool](); v.reserveCapacity(n); ok.reserveCapacity(n)
            for s in spans { let x = f(s); v.append(x ?? 0); ok.append(x != nil) }
            return ColumnVector(.double(v), validity: ok)
        }
        func ref(_ f: (BodyRef) -> Int64?) -> ColumnVector {
            guard let bodyRefs else { return ColumnVector(.int(.init(repeating: 0, count: n)), validity: .init(repeating: false, count: n)) }
            var v = [Int64](), ok = [Bool](); v.reserveCapacity(n); ok.reserveCapacity(n)
            for r in bodyRefs { let x = r.flatMap(f); v.append(x ?? 0); ok.append(x != nil) }
            return ColumnVector(.int(v), validity: ok)
        }
        return [
            str { $0.spanID }, strOpt { $0.traceID }, strOpt { $0.parentSpanID }, strOpt { $0.sessionID },
            strOpt { $0.userID }, int { $0.tsStart }, int { $0.tsEnd }, dbl { $0.latencyMs }, dblOpt { $0.ttftMs },
            dbl { $0.upstreamMs }, str { $0.provider }, strOpt { $0.modelRequested }, strOpt { $0.model },
            str { $0.operation }, str { $0.endpoint }, str { $0.method },
            ColumnVector(.bool(spans.map(\.stream))),
            int { $0.status }, strOpt { $0.errorType }, strOpt { $0.finishReason },
            intOpt { $0.inputTokens }, intOpt { $0.outputTokens }, intOpt { $0.cacheReadTokens },
            intOpt { $0.cacheWriteTokens }, intOpt { $0.reasoningTokens }, dblOpt { $0.costUSD },
            int { $0.requestBytes }, int { $0.responseBytes }, strOpt { $0.apiKeyHash },
            ColumnVector(.map(spans.map(\.properties))),
            ref { $0.file }, ref { $0.block }, ref { $0.offset }, ref { $0.requestLength }, ref { $0.responseLength },
        ]
    }

    /// Spans (without bodies) and their body refs from a full set of segment columns.
    public static func spans(from c: [ColumnVector]) throws -> (spans: [Span], bodyRefs: [BodyRef?]) {
        guard c.count == SegmentSchema.columns.count else { throw FormatError("expected \(SegmentSchema.columns.count) columns, got \(c.count)") }
        let n = c[0].count
        for (i, col) in c.enumerated() where col.count != n {
            throw FormatError("column \(SegmentSchema.columns[i].name) has \(col.count) rows, expected \(n)")
        }
        func s(_ i: Int) throws -> [String] {
            guard case .string(let v) = c[i].values else { throw FormatError("column \(SegmentSchema.columns[i].name) is not a string column") }
            return v
        }
        func iv(_ i: Int) throws -> [Int64] {
            guard case .int(let v) = c[i].values else { throw FormatError("column \(SegmentSchema.columns[i].name) is not an integer column") }
            return v
        }
        func d(_ i: Int) throws -> [Double] {
            guard case .double(let v) = c[i].values else { throw FormatError("column \(SegmentSchema.columns[i].name) is not a double column") }
            return v
        }
        func opt<T>(_ i: Int, _ v: [T], _ row: Int) -> T? { c[i].isNull(row) ? nil : v[row] }
        let (spanID, traceID, parent, session, user) = (try s(0), try s(1), try s(2), try s(3), try s(4))
        let (tsStart, tsEnd, latency, ttft, upstream) = (try iv(5), try iv(6), try d(7), try d(8), try d(9))
        let (provider, modelReq, model, op, endpoint, method) = (try s(10), try s(11), try s(12), try s(13), try s(14), try s(15))
        guard case .bool(let stream) = c[16].values else { throw FormatError("column stream is not boolean") }
        let (status, errType, finish) = (try iv(17), try s(18), try s(19))
        let (inTok, outTok, cacheR, cacheW, reason, cost) = (try iv(20), try iv(21), try iv(22), try iv(23), try iv(24), try d(25))
        let (reqBytes, respBytes, keyHash) = (try iv(26), try iv(27), try s(28))
        guard case .map(let props) = c[29].values else { throw FormatError("column properties is not a map") }
        let (bFile, bBlock, bOff, bReq, bResp) = (try iv(30), try iv(31), try iv(32), try iv(33), try iv(34))
        var spans = [Span](); spans.reserveCapacity(n)
        var refs = [BodyRef?](); refs.reserveCapacity(n)
        for r in 0..<n {
            spans.append(Span(
                spanID: spanID[r], traceID: opt(1, traceID, r), parentSpanID: opt(2, parent, r),
                sessionID: opt(3, session, r), userID: opt(4, user, r), tsStart: tsStart[r], tsEnd: tsEnd[r],
                latencyMs: latency[r], ttftMs: opt(8, ttft, r), upstreamMs: upstream[r], provider: provider[r],
                modelRequested: opt(11, modelReq, r), model: opt(12, model, r), operation: op[r],
                endpoint: endpoint[r], method: method[r], stream: stream[r], status: status[r],
                errorType: opt(18, errType, r), finishReason: opt(19, finish, r),
                inputTokens: opt(20, inTok, r), outputTokens: opt(21, outTok, r), cacheReadTokens: opt(22, cacheR, r),
                cacheWriteTokens: opt(23, cacheW, r), reasoningTokens: opt(24, reason, r), costUSD: opt(25, cost, r),
                requestBytes: reqBytes[r], responseBytes: respBytes[r], apiKeyHash: opt(28, keyHash, r),
                properties: props[r]))
            if c[30].isNull(r) || c[31].isNull(r) || c[32].isNull(r) {
                refs.append(nil)
            } else {
                refs.append(BodyRef(file: bFile[r], block: bBlock[r], offset: bOff[r],
                                    requestLength: opt(33, bReq, r), responseLength: opt(34, bResp, r)))
            }
        }
        return (spans, refs)
    }
}
