extension ScalarFunction {
    /// `coalesce` over strings without a `Value` per row: the result is dictionary-coded, each
    /// argument's dictionary entry (or string) mapped once to a result code, so that
    /// `coalesce(model, model_requested, '(none)')` stays as cheap to group by as `model`.
    /// nil when an argument is not a string vector or constant (the row-wise path takes it).
    static func coalesceStrings(_ args: [Vector], count n: Int) -> Vector? {
        if args.count == 2, case .dict(let codes, let dict) = args[0].data, case .constant(.string(let s), _) = args[1].data {
            return coalesce(codes, dict, validity: args[0].validity, else: s)
        }
        var dictionary: [String] = []
        var index: [String: UInt32] = [:]
        func code(_ s: String) -> UInt32 {
            if let c = index[s] { return c }
            let c = UInt32(dictionary.count)
            dictionary.append(s); index[s] = c
            return c
        }
        var codes = [UInt32](repeating: 0, count: n)
        var valid = [Bool](repeating: false, count: n)
        var open = n                                   // rows still without a value
        for a in args where open > 0 {
            switch a.data {
            case .constant(.null, _): continue
            case .constant(.string(let s), _):
                let c = code(s)
                for i in 0..<n where !valid[i] { codes[i] = c; valid[i] = true }
                open = 0
            case .dict(let argCodes, let argDictionary):
                var mapped = [Int64](repeating: -1, count: argDictionary.count)
                for i in 0..<n where !valid[i] && a.isValid(i) {
                    let k = Int(argCodes[i])
                    if mapped[k] < 0 { mapped[k] = Int64(code(argDictionary[k])) }
                    codes[i] = UInt32(mapped[k]); valid[i] = true; open -= 1
                }
            case .string(let strings):
                for i in 0..<n where !valid[i] && a.isValid(i) { codes[i] = code(strings[i]); valid[i] = true; open -= 1 }
            case .hex(let h):
                for i in 0..<n where !valid[i] && a.isValid(i) { codes[i] = code(h.string(i)); valid[i] = true; open -= 1 }
            default:
                return nil
            }
        }
        return Vector(type: .varchar, data: .dict(codes: codes, dictionary: dictionary), validity: open == 0 ? nil : valid)
    }

    /// `coalesce(column, 'text')` for a dictionary-coded column: its dictionary kept as it is
    /// (`'text'` added when not in it), so that a GROUP BY meets the same dictionary in
    /// consecutive row groups as it would for the column alone.
    static func coalesce(_ codes: [UInt32], _ dict: [String], validity: [Bool]?, else text: String) -> Vector {
        guard let validity else { return Vector(type: .varchar, data: .dict(codes: codes, dictionary: dict)) }
        var dictionary = dict
        let fill = UInt32(dict.firstIndex(of: text) ?? { dictionary.append(text); return dict.count }())
        var out = codes
        for i in out.indices where !validity[i] { out[i] = fill }
        return Vector(type: .varchar, data: .dict(codes: out, dictionary: dictionary))
    }
}
