extension String {
    /// At most `maxBytes` bytes of UTF-8, cut before a character rather than inside one.
    ///
    /// ```swift
    /// "héllo".prefix(utf8Bytes: 2)   // "h" (the é would be cut in half)
    /// ```
    public func prefix(utf8Bytes maxBytes: Int) -> String {
        let bytes = utf8
        guard bytes.count > maxBytes else { return self }
        var end = bytes.index(bytes.startIndex, offsetBy: max(0, maxBytes))
        while end > bytes.startIndex, bytes[end] & 0xC0 == 0x80 { end = bytes.index(before: end) }
        return String(decoding: bytes[..<end], as: UTF8.self)
    }
}
