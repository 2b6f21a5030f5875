import Foundation
import XCTest
@testable import PlumbCore

/// SigV4 against AWS's own signing test suite and botocore's signer on Bedrock requests
/// (Fixtures/sigv4-vectors.json, with its sources), and the event-stream framing.
final class SigV4Tests: XCTestCase {
    struct Case: Decodable {
        struct Credentials: Decodable { let access_key_id: String; let secret_access_key: String; let token: String? }
        let name, method, path, query, body, region, service, amz_date: String
        let headers: [[String]]
        let credentials: Credentials
        let canonical_request, string_to_sign, signature, authorization: String
    }
    struct Vectors: Decodable { let aws_suite: [Case]; let botocore: [Case] }

    func vectors() throws -> Vectors {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/sigv4-vectors.json")
        return try JSONDecoder().decode(Vectors.self, from: Data(contentsOf: url))
    }

    func check(_ c: Case, file: StaticString = #filePath, line: UInt = #line) {
        let creds = AWSCredentials(accessKeyID: c.credentials.access_key_id, secretAccessKey: c.credentials.secret_access_key,
                                   sessionToken: c.credentials.token)
        let signer = SigV4(credentials: creds, region: c.region, service: c.service)
        // A header the case gives itself (a token the suite put in the request) is not added twice.
        var headers = c.headers.map { ($0[0], $0[1]) }
        if creds.sessionToken != nil { headers.removeAll { $0.0.lowercased() == "x-amz-security-token" } }
        headers.removeAll { $0.0.lowercased() == "x-amz-date" }
        let signed = signer.sign(method: c.method, path: c.path, query: c.query.isEmpty ? nil : c.query, headers: headers,
                                 payloadHash: SHA256.hex(Array(c.body.utf8)), amzDate: c.amz_date)
        XCTAssertEqual(signed.canonicalRequest, c.canonical_request, c.name, file: file, line: line)
        XCTAssertEqual(signed.stringToSign, c.string_to_sign, c.name, file: file, line: line)
        XCTAssertEqual(signed.signature, c.signature, c.name, file: file, line: line)
        XCTAssertEqual(signed.headers.first { $0.0 == "Authorization" }?.1, c.authorization, c.name, file: file, line: line)
    }

    func testAWSSigningTestSuite() throws {
        let v = try vectors()
        XCTAssertGreaterThanOrEqual(v.aws_suite.count, 25)
        for c in v.aws_suite { check(c) }
    }

    func testBotocoreBedrockRequests() throws {
        let v = try vectors()
        XCTAssertGreaterThanOrEqual(v.botocore.count, 8)
        XCTAssertTrue(v.botocore.contains { $0.canonical_request.contains("%253A") }, "model ids are encoded twice")
        for c in v.botocore { check(c) }
    }

    func testAmzDateAndCredentialsFile() throws {
        XCTAssertEqual(SigV4.amzDate(micros: 1_764_590_400_000_000), "20251201T120000Z")
        XCTAssertEqual(CallUsage.sum(.max, 5, 1), .max, "counts from the wire saturate")
        XCTAssertEqual(CallUsage.sum(3, 4, 5), 12)
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("sigv4-\(UUID())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let file = dir.appendingPathComponent("credentials")
        try "[default]\naws_access_key_id = AKIDDEF\naws_secret_access_key = s1\n\n[prod]\n# comment\naws_access_key_id=AKIDPROD\naws_secret_access_key = s2\naws_session_token = t2\n"
            .write(to: file, atomically: true, encoding: .utf8)
        let env = ["AWS_SHARED_CREDENTIALS_FILE": file.path]
        XCTAssertEqual(try AWSCredentials.load(profile: "prod", environment: env), AWSCredentials(accessKeyID: "AKIDPROD", secretAccessKey: "s2", sessionToken: "t2"))
        XCTAssertEqual(try AWSCredentials.load(profile: "default", environment: env).accessKeyID, "AKIDDEF", "[default] when named")
        XCTAssertEqual(try AWSCredentials.load(profile: nil, environment: env.merging(["AWS_ACCESS_KEY_ID": "AKIDENV", "AWS_SECRET_ACCESS_KEY": "s3"]) { $1 }).accessKeyID, "AKIDENV")
        XCTAssertThrowsError(try AWSCredentials.load(profile: "nope", environment: env)) { XCTAssertTrue("\($0)".contains("no profile [nope]")) }
        XCTAssertThrowsError(try AWSCredentials.load(profile: nil, environment: ["AWS_ACCESS_KEY_ID": "A"])) { XCTAssertTrue("\($0)".contains("AWS_SECRET_ACCESS_KEY")) }
        XCTAssertThrowsError(try AWSCredentials.load(profile: nil, environment: env), "the file's [default] is never taken unasked")
        // CRLF files (Windows editors) read like LF ones; a value with a control character is refused.
        try "[prod]\r\naws_access_key_id = AKIDCRLF\r\naws_secret_access_key = s\r\n".write(to: file, atomically: true, encoding: .utf8)
        XCTAssertEqual(try AWSCredentials.load(profile: "prod", environment: env).accessKeyID, "AKIDCRLF")
        XCTAssertThrowsError(try AWSCredentials.load(profile: nil, environment: ["AWS_ACCESS_KEY_ID": "A", "AWS_SECRET_ACCESS_KEY": "s",
                                                                                "AWS_SESSION_TOKEN": "t\r\nHost: evil"]))
    }

    func testBearerTokensFromATokenEndpoint() {
        XCTAssertTrue(GoogleTokenSource.isBearerToken("ya29.a0AfB_byC-1~+/x=="))
        for bad in ["", "x\r\nHost: evil", "a b", "tok=en", "=abc", String(repeating: "a", count: 5000), "ünicode"] {
            XCTAssertFalse(GoogleTokenSource.isBearerToken(bad), bad.debugDescription)
        }
    }

    func testEventStreamRoundTripInPiecesAndCorruption() {
        let messages = (0..<20).map { i in
            EventStreamMessage.encode(headers: [(":event-type", i % 2 == 0 ? "contentBlockDelta" : "metadata"), (":message-type", "event")],
                                      payload: Array("{\"n\":\(i)}".utf8))
        }
        let all = messages.flatMap { $0 }
        // AWS's framing: a known message's prelude (total 0x3D? no: computed) and CRCs agree with zlib's CRC-32.
        XCTAssertEqual(EventStreamDecoder.crc32(Array("123456789".utf8)[...]), 0xCBF4_3926, "CRC-32 check value")
        var rng = SystemRandomNumberGenerator()
        for _ in 0..<50 {
            var d = EventStreamDecoder()
            var got: [EventStreamMessage] = []
            var i = 0
            while i < all.count {
                let n = Int.random(in: 1...40, using: &rng)
                got += d.feed(Array(all[i..<min(all.count, i + n)]))
                i += n
            }
            XCTAssertNil(d.failure)
            XCTAssertEqual(got.count, 20)
            XCTAssertEqual(got[3].headers[":event-type"], "metadata")
            XCTAssertEqual(String(decoding: got[7].payload, as: UTF8.self), "{\"n\":7}")
            XCTAssertEqual(d.pendingBytes, 0)
        }
        var corrupt = all
        corrupt[messages[0].count + 20] ^= 0xFF            // a payload or header byte of the second message
        var d = EventStreamDecoder()
        XCTAssertEqual(d.feed(corrupt).count, 1, "the messages before the damage are read")
        XCTAssertEqual(d.failure, "message CRC mismatch")
        XCTAssertTrue(d.feed(messages[2]).isEmpty, "nothing is read after a failure")
        var huge = EventStreamDecoder()
        var prelude: [UInt8] = [0x7F, 0xFF, 0xFF, 0xFF, 0, 0, 0, 0]
        EventStreamDecoder.appendUInt32(&prelude, EventStreamDecoder.crc32(prelude[...]))
        XCTAssertTrue(huge.feed(prelude).isEmpty)
        XCTAssertNotNil(huge.failure, "a 2 GiB frame is refused from its prelude, not waited for")
    }
}
