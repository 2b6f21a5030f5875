import XCTest
@testable import PlumbCore

final class PrometheusTextTests: XCTestCase {
    /// A label value from a config (a rule or budget name) cannot end its sample line or its
    /// quoted value: the three characters the format escapes are escaped, nothing else.
    func testLabelValuesEscapeBackslashQuoteAndLineFeed() {
        XCTAssertEqual(PrometheusText.escapeLabel("plain-name_1"), "plain-name_1")
        XCTAssertEqual(PrometheusText.escapeLabel("a\"b\\c\nd"), "a\\\"b\\\\c\\nd")
        XCTAssertEqual(PrometheusText.escapeLabel("\\\n"), "\\\\\\n")
        XCTAssertEqual(PrometheusText.escapeLabel("équipe ✓"), "équipe ✓")
        XCTAssertFalse(PrometheusText.escapeLabel("x\ny\nz").contains("\n"))
    }
}
