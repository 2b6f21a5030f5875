import XCTest
@testable import PlumbCore

final class TimestampTests: XCTestCase {
    func testFormatAndParseRoundTrip() throws {
        for micros: Int64 in [0, 1, 999_999, 1_795_255_200_123_456, -1, -86_400_000_001, 253_402_300_799_999_999] {
            XCTAssertEqual(try Timestamp.parse(Timestamp.format(micros)), micros, "\(micros)")
        }
        XCTAssertEqual(Timestamp.format(0), "1970-01-01T00:00:00.000000Z")
        XCTAssertEqual(Timestamp.format(-1), "1969-12-31T23:59:59.999999Z")
    }

    func testParsesZonesAndPrecision() throws {
        let base = try Timestamp.parse("2026-11-21T10:00:00Z")
        XCTAssertEqual(try Timestamp.parse("2026-11-21T11:30:00+01:30"), base)
        XCTAssertEqual(try Timestamp.parse("2026-11-21 10:00:00"), base)
        XCTAssertEqual(try Timestamp.parse("2026-11-21T10:00:00.5Z"), base + 500_000)
        XCTAssertEqual(try Timestamp.parse("2026-11-21T10:00:00.123456789Z"), base + 123_456)
        XCTAssertEqual(try Timestamp.parse("2026-11-21"), base - 10 * 3_600_000_000)
        XCTAssertEqual(try Timestamp.parse("2024-02-29T00:00:00Z"), 1_709_164_800_000_000)
    }

    func testRejectsBadDates() {
        for bad in ["2026-02-30T00:00:00Z", "2026-13-01", "2026-11-21T25:00:00Z", "yesterday", "2026-11-21T10:00:00.Z", "2026-11-21T10:00:00Zjunk"] {
            XCTAssertThrowsError(try Timestamp.parse(bad), bad)
        }
    }
}
