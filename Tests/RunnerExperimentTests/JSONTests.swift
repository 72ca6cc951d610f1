import XCTest
import Runner

/// The JSON reader and writer: `\u` escapes (surrogate pairs included) and round trips.
final class JSONTests: XCTestCase {
    func parsedString(_ text: String, file: StaticString = #filePath, line: UInt = #line) -> String? {
        do {
            guard case .string(let s) = try JSON.parse(text) else { XCTFail("not a string", file: file, line: line); return nil }
            return s
        } catch {
            XCTFail("\(text): \(error)", file: file, line: line); return nil
        }
    }

    func syntaxError(_ text: String, file: StaticString = #filePath, line: UInt = #line) -> JSON.SyntaxError? {
        do {
            let v = try JSON.parse(text)
            XCTFail("\(text) parsed as \(v)", file: file, line: line); return nil
        } catch {
            return error
        }
    }

    func testSurrogatePairIsOneScalar() {
        XCTAssertEqual(parsedString(#""\ud83d\ude42""#), "🙂")
        XCTAssertEqual(parsedString(#""\uD83D\uDE42""#), "🙂")
        XCTAssertEqual(parsedString(#""a\ud83d\ude42b\ud83c\udf89""#), "a🙂b🎉")
        XCTAssertEqual(parsedString(#""\ud800\udc00""#), "\u{10000}")
        XCTAssertEqual(parsedString(#""\udbff\udfff""#), "\u{10FFFF}")
    }

    func testUnterminatedAfterPairIsAnError() {
        XCTAssertEqual(syntaxError(#""\ud83d\ude42"#)?.message, "unterminated string")
    }

    func testBMPEscapesUnchanged() {
        XCTAssertEqual(parsedString(#""\u0041\u00e9\u20ac\uffff""#), "Aé€\u{FFFF}")
        XCTAssertEqual(parsedString(#""\u0000x""#), "\u{0}x")
        XCTAssertEqual(parsedString(#""\n\t\r\b\f\"\\\/""#), "\n\t\r\u{8}\u{C}\"\\/")
        XCTAssertEqual(parsedString(#""🙂 raw""#), "🙂 raw")
    }

    func testLoneAndMisorderedSurrogatesAreErrors() {
        let highAlone = "lone surrogate \\ud83d in \\u escape: a high surrogate \\ud800–\\udbff must be followed by a low surrogate \\udc00–\\udfff"
        let lowAlone = "lone surrogate \\ude42 in \\u escape: a low surrogate \\udc00–\\udfff must follow a high surrogate \\ud800–\\udbff"
        XCTAssertEqual(syntaxError(#""\ud83d""#)?.message, highAlone)
        XCTAssertEqual(syntaxError(#""\ud83dx""#)?.message, highAlone)
        XCTAssertEqual(syntaxError(#""\ud83d\u0041""#)?.message, highAlone)
        XCTAssertEqual(syntaxError(#""\ud83d\ud83d""#)?.message, highAlone)
        XCTAssertEqual(syntaxError(#""\ud83d\n""#)?.message, highAlone)
        XCTAssertEqual(syntaxError(#""\ud83d"#)?.message, highAlone)
        XCTAssertEqual(syntaxError(#""\ude42""#)?.message, lowAlone)
        XCTAssertEqual(syntaxError(#""\ude42\ud83d""#)?.message, lowAlone)   // mis-ordered pair
        XCTAssertEqual(syntaxError(#""\uD83D""#)?.message.hasPrefix("lone surrogate \\uD83D in \\u escape"), true)
        // The position is that of the escape, in a config file.
        let e = syntaxError("{\n  \"name\": \"a\\ud83d\"\n}")
        XCTAssertEqual(e?.line, 2)
        XCTAssertEqual(e?.column, 14)
    }

    func testMalformedEscapesAreErrors() {
        let bad = "invalid \\u escape: expected 4 hex digits after \\u"
        XCTAssertEqual(syntaxError(#""\u12""#)?.message, bad)
        XCTAssertEqual(syntaxError(#""\u12g4""#)?.message, bad)
        XCTAssertEqual(syntaxError(#""\u+123""#)?.message, bad)
        XCTAssertEqual(syntaxError(#""\u-123""#)?.message, bad)
        XCTAssertEqual(syntaxError(#""\u 123""#)?.message, bad)
        XCTAssertEqual(syntaxError(#""\u"#)?.message, bad)
        XCTAssertEqual(syntaxError(#""\ud83d\u12""#)?.message.hasPrefix("lone surrogate \\ud83d"), true)
    }

    func testSerializationRoundTrips() throws {
        let strings = ["🙂", "a🙂b", "\u{10000}\u{10FFFF}", "quote \" backslash \\ slash /", "tab\tnewline\nreturn\r",
                       "\u{0}\u{1}\u{8}\u{C}\u{1B}\u{1F} \u{7F}", "é€ 中文", "", "\u{2028}\u{2029}"]
        for s in strings {
            let v = JSON.object([("name", .string(s)), ("list", .array([.string(s), .number(1)]))])
            XCTAssertEqual(try JSON.parse(v.serialized()), v, s.debugDescription)
            XCTAssertEqual(try JSON.parse(v.compact), v, s.debugDescription)
        }
        // Scalars above U+FFFF are written as UTF-8, read back from either form.
        XCTAssertEqual(JSON.string("🙂").serialized(), "\"🙂\"")
        XCTAssertEqual(try JSON.parse(#""\ud83d\ude42""#), try JSON.parse("\"🙂\""))
        XCTAssertEqual(try JSON.parse(#"{"\ud83d\ude42": 1}"#)["🙂"], .number(1))
    }

    func testControlCharactersSerializeAsEscapes() {
        XCTAssertEqual(JSON.string("\u{0}").serialized(), #""\u0000""#)
        XCTAssertEqual(JSON.string("a\u{1}b").serialized(), #""a\u0001b""#)
        XCTAssertEqual(JSON.string("\u{8}\u{C}\u{1B}\u{1F}").serialized(), #""\u0008\u000c\u001b\u001f""#)
        XCTAssertEqual(JSON.string("\n\t\r").serialized(), #""\n\t\r""#)
        XCTAssertEqual(JSON.string("\"\\").serialized(), #""\"\\""#)
        XCTAssertEqual(JSON.string(" ~\u{7F}").serialized(), "\" ~\u{7F}\"")
        // Every serialised string is one line, whatever it holds.
        for c in (0..<0x20).compactMap(Unicode.Scalar.init) {
            XCTAssertFalse(JSON.string("x\(Character(c))y").serialized().unicodeScalars.contains { $0.value < 0x20 }, "U+\(c.value)")
        }
    }
}
