import XCTest
@testable import PlumbCore

final class JSONParserTests: XCTestCase {
    /// The usage names returned as literals must be exactly the bytes read: a name of the same
    /// length that differs, an escaped spelling, and a value with a known name's text.
    func testKnownLongKeysComeBackExactly() throws {
        let text = #"{"completion_tokens":1,"completion_tokenz":2,"completion_\u0074okens_details":{},"s":"prompt_tokens_details","m":{"a":1,"b":2,"c":3,"d":4,"e":5,"f":6,"g":7,"h":8,"i":9}}"#
        let v = try JSONParser.parse(text)
        XCTAssertEqual(v["completion_tokens"], .int(1))
        XCTAssertEqual(v["completion_tokenz"], .int(2))
        XCTAssertEqual(v["completion_tokens_details"], .object([:]))
        XCTAssertEqual(v["s"], .string("prompt_tokens_details"))
        if case .object(let m)? = v["m"] { XCTAssertEqual(m.count, 9, "an object past the first room grows") } else { XCTFail() }
        for key in JSONParser.knownKeys { XCTAssertEqual(Array(key.name.utf8), key.bytes) }
    }

    func testParsesNestedDocument() throws {
        let v = try JSONParser.parse(#"{"a":[1,-2.5,true,false,null,"x"],"b":{"c":"d"},"big":12345678901234567890}"#)
        XCTAssertEqual(v["a"], .array([.int(1), .double(-2.5), .bool(true), .bool(false), .null, .string("x")]))
        XCTAssertEqual(v["b"]?["c"]?.stringValue, "d")
        XCTAssertEqual(v["big"]?.doubleValue, 12345678901234567890.0)
    }

    func testEscapesAndSurrogatePairs() throws {
        let v = try JSONParser.parse(#""a\"b\\c\/\n\t\u00e9\ud83d\ude00""#)
        XCTAssertEqual(v.stringValue, "a\"b\\c/\n\té😀")
    }

    func testErrorsArePositional() {
        let cases: [(String, String, Int)] = [
            ("{\"a\": tru}", "invalid literal", 6),
            ("[1, 2", "unterminated array", 5),
            ("{\"a\" 1}", "expected ':' after key", 5),
            ("\"abc", "unterminated string", 4),
            ("01", "unexpected trailing characters", 1),
            ("\"\\ud800\"", "unpaired surrogate in \\u escape", 7),
            ("", "unexpected end of input", 0),
        ]
        for (text, message, offset) in cases {
            XCTAssertThrowsError(try JSONParser.parse(text), text) { error in
                let e = error as! JSONParseError
                XCTAssertEqual(e.message, message, text)
                XCTAssertEqual(e.offset, offset, text)
            }
        }
    }

    func testRejectsInvalidUTF8() {
        XCTAssertThrowsError(try JSONParser.parse([0x22, 0xFF, 0x22]))
    }

    func testDeepNestingIsAnErrorNotACrash() {
        let deep = String(repeating: "[", count: 100_000)
        XCTAssertThrowsError(try JSONParser.parse(deep))
    }

    func testWriterRoundTrip() throws {
        let v: JSONValue = .object(["s": .string("q\"\\\n\u{1}é"), "n": .int(-5), "d": .double(0.25), "a": .array([.null, .bool(true)])])
        var w = JSONWriter()
        w.value(v)
        XCTAssertEqual(try JSONParser.parse(w.bytes), v)
    }
}

final class JSONPrettyTests: XCTestCase {
    func testReindentsKeepingOrderAndNumbers() {
        XCTAssertEqual(JSONPretty.lines(#"{"b":[1,2.50],"a":{},"s":"x,{y}:\"z\""}"#),
                       ["{", #"  "b": ["#, "    1,", "    2.50", "  ],", #"  "a": {},"#, #"  "s": "x,{y}:\"z\"""#, "}"])
    }

    func testNotJSONIsNil() {
        XCTAssertNil(JSONPretty.lines("{\"a\":"))
        XCTAssertEqual(JSONPretty.body("plain\ntext"), ["plain", "text"])
    }

    func testServerSentEventsAreReindentedPerEvent() {
        XCTAssertEqual(JSONPretty.body("data: {\"a\":1}\n\ndata: [DONE]\n"), ["data:", "  {", "    \"a\": 1", "  }", "", "data: [DONE]", ""])
    }
}
