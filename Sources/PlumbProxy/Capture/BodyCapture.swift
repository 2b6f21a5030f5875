/// Keeps the first `cap` bytes of a body for storage and counts all of them. A body over the cap
/// is stored cut at the cap (on a UTF-8 boundary) and marked truncated in the span's properties.
struct BodyCapture {
    let cap: Int
    private(set) var bytes: [UInt8] = []
    private(set) var total = 0

    init(cap: Int) { self.cap = cap }

    mutating func append<C: Collection>(_ chunk: C) where C.Element == UInt8 {
        total += chunk.count
        let room = cap - bytes.count
        guard room > 0 else { return }
        bytes.append(contentsOf: chunk.prefix(room))
    }

    var truncated: Bool { total > bytes.count }

    /// The kept bytes as text, without a UTF-8 sequence cut in half at the cap.
    var text: String {
        var end = bytes.count
        if truncated {
            var i = end, continuation = 0
            while i > 0, continuation < 3, bytes[i - 1] & 0xC0 == 0x80 { i -= 1; continuation += 1 }
            if i > 0, bytes[i - 1] >= 0xC0 {
                let lead = bytes[i - 1]
                let needed = lead >= 0xF0 ? 3 : lead >= 0xE0 ? 2 : 1
                if continuation < needed { end = i - 1 }
            }
        }
        return String(decoding: bytes[..<end], as: UTF8.self)
    }
}
