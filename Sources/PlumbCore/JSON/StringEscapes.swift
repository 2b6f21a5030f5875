/// The one-letter backslash escapes JSON and TOML strings share (`\n \t \r \b \f \" \\`), so
/// both parsers decode them the same way; each handles its own extras (`\/`, `\uXXXX`, `\UXXXXXXXX`).
public enum StringEscapes {
    @inline(__always) public static func simple(_ e: UInt8) -> UInt8? {
        switch e {
        case UInt8(ascii: "n"): 0x0A
        case UInt8(ascii: "t"): 0x09
        case UInt8(ascii: "r"): 0x0D
        case UInt8(ascii: "b"): 0x08
        case UInt8(ascii: "f"): 0x0C
        case UInt8(ascii: "\""): 0x22
        case UInt8(ascii: "\\"): 0x5C
        default: nil
        }
    }

    /// A hex digit's value (either case), as `\uXXXX` escapes spell them.
    @inline(__always) public static func hexDigit(_ b: UInt8) -> UInt32? {
        switch b {
        case 0x30...0x39: UInt32(b - 0x30)
        case 0x41...0x46: UInt32(b - 0x41 + 10)
        case 0x61...0x66: UInt32(b - 0x61 + 10)
        default: nil
        }
    }
}
