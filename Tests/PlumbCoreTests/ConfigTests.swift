import XCTest
@testable import PlumbCore

final class ConfigTests: XCTestCase {
    let sample = """
    # Plumb config
    listen = "127.0.0.1:8787"
    data = './plumb-data'
    retention = "30d"
    compaction = true
    max_request_bytes = 10_485_760

    [providers.openai]                 # override a built-in
    base_url = "https://api.openai.com"

    [providers.local]
    base_url = "http://127.0.0.1:11434"
    api = "openai"
    headers = { "X-Team" = "a", b = "c" }
    models = ["llama3", "qwen"]
    """

    func testParsesTheDesignExample() throws {
        let doc = try TOMLParser.parse(sample)
        XCTAssertEqual(doc["listen"]?.stringValue, "127.0.0.1:8787")
        XCTAssertEqual(doc["max_request_bytes"]?.intValue, 10_485_760)
        XCTAssertEqual(doc["providers"]?["local"]?["api"]?.stringValue, "openai")
        XCTAssertEqual(doc["providers"]?["local"]?["headers"]?["X-Team"]?.stringValue, "a")
        XCTAssertEqual(doc["providers"]?["local"]?["models"], .array([.string("llama3"), .string("qwen")]))
        XCTAssertEqual(doc["providers"]?["openai"]?["base_url"]?.stringValue, "https://api.openai.com")
    }

    func testTOMLErrorsHaveLineAndColumn() {
        XCTAssertThrowsError(try TOMLParser.parse("a = 1\nb = oops\n")) { e in
            XCTAssertEqual((e as! TOMLError).line, 2)
            XCTAssertTrue("\(e)".contains("strings need quotes"), "\(e)")
        }
        XCTAssertThrowsError(try TOMLParser.parse("a = 1\na = 2\n")) { e in XCTAssertTrue("\(e)".contains("defined twice")) }
        XCTAssertThrowsError(try TOMLParser.parse("[t]\n[t]\n")) { e in XCTAssertTrue("\(e)".contains("defined twice")) }
        XCTAssertThrowsError(try TOMLParser.parse("s = \"abc\n")) { e in XCTAssertTrue("\(e)".contains("unterminated string")) }
    }

    func testPrecedenceCommandLineThenEnvironmentThenFile() throws {
        let c = try PlumbConfig(toml: "data = \"/from/file\"\nretention = \"7d\"", environment: ["PLUMB_DATA": "/from/env"])
        XCTAssertEqual(try c.string("data", cli: "/from/cli"), "/from/cli")
        XCTAssertEqual(try c.string("data"), "/from/env")
        XCTAssertEqual(try c.duration("retention"), .some(7 * 86_400_000_000))
        let none = try PlumbConfig(toml: "retention = \"0\"")
        XCTAssertEqual(try none.duration("retention"), .some(nil))
        XCTAssertEqual(try none.duration("body_retention"), .none)
    }

    func testUnknownKeysAndBadDurationsAreErrors() {
        XCTAssertThrowsError(try PlumbConfig(toml: "retension = \"7d\"")) { e in XCTAssertTrue("\(e)".contains("unknown key 'retension'")) }
        XCTAssertThrowsError(try PlumbConfig(toml: "retention = \"soon\"").duration("retention")) { e in
            XCTAssertTrue("\(e)".contains("invalid duration 'soon'"))
        }
        XCTAssertEqual(PlumbConfig.parseDuration("90m"), 5_400_000_000)
        XCTAssertEqual(PlumbConfig.parseDuration("250ms"), 250_000)
        XCTAssertNil(PlumbConfig.parseDuration("1e20d"), "too large is an error, not a crash")
        XCTAssertNil(PlumbConfig.parseDuration("-1d"))
    }
}
