extension UInt8 {
    /// `0-9`, `A-Z`, `a-z`: the core of the character classes that names, key ids, tokens and
    /// URI encoding allow (each adds its own punctuation).
    ///
    /// ```swift
    /// "AKID_1".utf8.allSatisfy { $0.isASCIIAlphanumeric || $0 == UInt8(ascii: "_") }
    /// ```
    @inline(__always) public var isASCIIAlphanumeric: Bool {
        (self >= 0x30 && self <= 0x39) || (self >= 0x41 && self <= 0x5A) || (self >= 0x61 && self <= 0x7A)
    }
}
