/// How many terminal columns text takes: East Asian wide and fullwidth characters take two,
/// combining marks and zero-width characters none (ranges after Unicode's EastAsianWidth.txt,
/// W and F classes, simplified to blocks).
///
/// ```swift
/// DisplayWidth.of("模型-é")        // 5
/// DisplayWidth.prefix("模型-é", fitting: 3)   // "模"
/// ```
public enum DisplayWidth {
    public static func of(_ s: String) -> Int {
        s.unicodeScalars.reduce(0) { $0 + width($1) }
    }

    public static func width(_ u: Unicode.Scalar) -> Int {
        let v = u.value
        if v < 0x300 { return v < 0x20 || (v >= 0x7F && v < 0xA0) ? 0 : 1 }
        if (0x300...0x36F).contains(v) || (0x200B...0x200F).contains(v) || (0xFE00...0xFE0F).contains(v)
            || (0x20D0...0x20FF).contains(v) || v == 0xFEFF {
            return 0
        }
        if (0x1100...0x115F).contains(v) || (0x2E80...0x303E).contains(v) || (0x3041...0x33FF).contains(v)
            || (0x3400...0x4DBF).contains(v) || (0x4E00...0x9FFF).contains(v) || (0xA000...0xA4CF).contains(v)
            || (0xAC00...0xD7A3).contains(v) || (0xF900...0xFAFF).contains(v) || (0xFE30...0xFE4F).contains(v)
            || (0xFF00...0xFF60).contains(v) || (0xFFE0...0xFFE6).contains(v) || (0x1F300...0x1F64F).contains(v)
            || (0x1F900...0x1F9FF).contains(v) || (0x20000...0x3FFFD).contains(v) {
            return 2
        }
        return 1
    }

    /// The longest prefix of `s` that takes at most `columns` columns.
    public static func prefix(_ s: String, fitting columns: Int) -> String {
        var out = String.UnicodeScalarView()
        var used = 0
        for u in s.unicodeScalars {
            let w = width(u)
            if used + w > columns { break }
            used += w
            out.append(u)
        }
        return String(out)
    }
}
