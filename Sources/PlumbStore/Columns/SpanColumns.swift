import PlumbCore

/// Transposes spans to segment columns (`SegmentSchema.columns` order) and back.
///
/// ```swift
/// let cols = SpanColumns.columns(of: spans, bodyRefs: refs)
/// let again = try SpanColumns.spans(from: cols)    // bodies not filled in
/// ```
public enum SpanColumns {
    public static func columns(of spans: [Span], bodyRefs: [BodyRef?]? = nil) -> [ColumnVector] {
        // One pass over the spans (each is hundreds of bytes: one pass per column would stream
        // them through the cache thirty times).
        let n = spans.count
        var spanID = Strings(n), traceID = Strings(n), parent = Strings(n), session = Strings(n), user = Strings(n)
        var provider = Strings(n), modelReq = Strings(n), model = Strings(n), op = Strings(n), endpoint = Strings(n)
        var method = Strings(n), errType = Strings(n), finish = Strings(n), keyHash = Strings(n)
        var tsStart = Ints(n), tsEnd = Ints(n), status = Ints(n), inTok = Ints(n), outTok = Ints(n)
        var cacheR = Ints(n), cacheW = Ints(n), reason = Ints(n), reqBytes = Ints(n), respBytes = Ints(n)
        var bFile = Ints(n), bBlock = Ints(n), bOff = Ints(n), bReq = Ints(n), bResp = Ints(n)
        var latency = Doubles(n), ttft = Doubles(n), upstream = Doubles(n), cost = Doubles(n)
        var stream = [Bool](), props = [[String: String]]()
        stream.reserveCapacity(n); props.reserveCapacity(n)
        for row in 0..<n {
            let x = spans[row]
            spanID.add(x.spanID); traceID.add(x.traceID); parent.add(x.parentSpanID); session.add(x.sessionID)
            user.add(x.userID); provider.add(x.provider); modelReq.add(x.modelRequested); model.add(x.model)
            op.add(x.operation); endpoint.add(x.endpoint); method.add(x.method); errType.add(x.errorType)
            finish.add(x.finishReason); keyHash.add(x.apiKeyHash)
            tsStart.add(x.tsStart); tsEnd.add(x.tsEnd); status.add(x.status); inTok.add(x.inputTokens)
            outTok.add(x.outputTokens); cacheR.add(x.cacheReadTokens); cacheW.add(x.cacheWriteTokens)
            reason.add(x.reasoningTokens); reqBytes.add(x.requestBytes); respBytes.add(x.responseBytes)
            latency.add(x.latencyMs); ttft.add(x.ttftMs); upstream.add(x.upstreamMs); cost.add(x.costUSD)
            stream.append(x.stream); props.append(x.properties)
            let r = bodyRefs?[row] ?? nil
            bFile.add(r?.file); bBlock.add(r?.block); bOff.add(r?.offset); bReq.add(r?.requestLength); bResp.add(r?.responseLength)
        }
        return [
            spanID.column, traceID.column, parent.column, session.column, user.column, tsStart.column, tsEnd.column,
            latency.column, ttft.column, upstream.column, provider.column, modelReq.column, model.column, op.column,
            endpoint.column, method.column, ColumnVector(.bool(stream)), status.column, errType.column, finish.column,
            inTok.column, outTok.column, cacheR.column, cacheW.column, reason.column, cost.column, reqBytes.column,
            respBytes.column, keyHash.column, ColumnVector(.map(props)),
            bFile.column, bBlock.column, bOff.column, bReq.column, bResp.column,
        ]
    }

    struct Strings {
        var v: [String] = [], ok: [Bool] = []
        init(_ n: Int) { v.reserveCapacity(n); ok.reserveCapacity(n) }
        @inline(__always) mutating func add(_ x: String?) { v.append(x ?? ""); ok.append(x != nil) }
        var column: ColumnVector { ColumnVector(.string(v), validity: ok) }
    }

    struct Ints {
        var v: [Int64] = [], ok: [Bool] = []
        init(_ n: Int) { v.reserveCapacity(n); ok.reserveCapacity(n) }
        @inline(__always) mutating func add(_ x: Int64?) { v.append(x ?? 0); ok.append(x != nil) }
        var column: ColumnVector { ColumnVector(.int(v), validity: ok) }
    }

    struct Doubles {
        var v: [Double] = [], ok: [Bool] = []
        init(_ n: Int) { v.reserveCapacity(n); ok.reserveCapacity(n) }
        @inline(__always) mutating func add(_ x: Double?) { v.append(x ?? 0); ok.append(x != nil) }
        var column: ColumnVector { ColumnVector(.double(v), validity: ok) }
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
