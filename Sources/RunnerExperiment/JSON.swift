import Foundation

/// A JSON value that keeps object keys in source order (so written configs read like the
/// input and trial ids are stable). Parsed by `JSON.parse`, which also accepts `//` and
/// `/* */` comments so shared configs can explain themselves.
public indirect enum JSON: Equatable, Sendable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([JSON])
    case object([(key: String, value: JSON)])

    public static func == (a: JSON, b: JSON) -> Bool {
        switch (a, b) {
        case (.null, .null): return true
        case let (.bool(x), .bool(y)): return x == y
        case let (.number(x), .number(y)): return x == y
        case let (.string(x), .string(y)): return x == y
        case let (.array(x), .array(y)): return x == y
        case let (.object(x), .object(y)):
            return x.count == y.count && zip(x, y).allSatisfy { $0.key == $1.key && $0.value == $1.value }
        default: return false
        }
    }

    /// Short type name for error messages.
    public var typeName: String {
        switch self {
        case .null: "null"
        case .bool: "a boolean"
        case .number(let v): v == v.rounded() && abs(v) < 1e15 ? "an integer" : "a number"
        case .string: "a string"
        case .array: "a list"
        case .object: "an object"
        }
    }

    public subscript(key: String) -> JSON? {
        guard case .object(let pairs) = self else { return nil }
        return pairs.last(where: { $0.key == key })?.value
    }

    /// Sets `value` at a dotted path (`model.weight_scale`), creating objects as needed.
    public func setting(path: [String], to value: JSON) -> JSON {
        guard let head = path.first else { return value }
        var pairs: [(key: String, value: JSON)] = []
        if case .object(let p) = self { pairs = p }
        let rest = Array(path.dropFirst())
        if let i = pairs.firstIndex(where: { $0.key == head }) {
            pairs[i].value = pairs[i].value.setting(path: rest, to: value)
        } else {
            pairs.append((head, JSON.null.setting(path: rest, to: value)))
        }
        return .object(pairs)
    }

    // MARK: writing

    /// Pretty-printed, two-space indented, keys in order.
    public func serialized(indent: String = "") -> String {
        let inner = indent + "  "
        switch self {
        case .null: return "null"
        case .bool(let b): return b ? "true" : "false"
        case .number(let v): return JSON.format(v)
        case .string(let s): return JSON.quote(s)
        case .array(let xs):
            if xs.isEmpty { return "[]" }
            if xs.allSatisfy({ if case .object = $0 { return false }; if case .array = $0 { return false }; return true }) {
                return "[" + xs.map { $0.serialized() }.joined(separator: ", ") + "]"
            }
            return "[\n" + xs.map { inner + $0.serialized(indent: inner) }.joined(separator: ",\n") + "\n" + indent + "]"
        case .object(let pairs):
            if pairs.isEmpty { return "{}" }
            return "{\n" + pairs.map { inner + JSON.quote($0.key) + ": " + $0.value.serialized(indent: inner) }.joined(separator: ",\n") + "\n" + indent + "}"
        }
    }

    /// One line, no spaces: the canonical form hashed for trial ids.
    public var compact: String {
        switch self {
        case .null, .bool, .number, .string: return serialized()
        case .array(let xs): return "[" + xs.map(\.compact).joined(separator: ",") + "]"
        case .object(let pairs): return "{" + pairs.map { JSON.quote($0.key) + ":" + $0.value.compact }.joined(separator: ",") + "}"
        }
    }

    /// Integers without a fraction, others in Swift's shortest round-trip form.
    public static func format(_ v: Double) -> String {
        if v.isNaN { return "null" }
        if v == v.rounded(), abs(v) < 1e15 { return String(Int64(v)) }
        return "\(v)"
    }

    /// A JSON string literal: `"` and `\` escaped, control characters as `\n`, `\t`, `\r` or
    /// `\u00XX`; everything else, emoji and other scalars above U+FFFF included, as UTF-8 (which
    /// `parse` reads back, as it reads their surrogate-pair escapes `\ud83d\ude42`).
    static func quote(_ s: String) -> String {
        var out = "\""
        for c in s.unicodeScalars {
            switch c {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            case "\r": out += "\\r"
            default:
                if c.value < 0x20 { out += String(format: "\\u%04x", c.value) } else { out.unicodeScalars.append(c) }
            }
        }
        return out + "\""
    }

    // MARK: parsing

    public struct SyntaxError: Error, Equatable, Sendable {
        public let line: Int, column: Int, message: String
    }

    public static func parse(_ text: String) throws(SyntaxError) -> JSON {
        var p = Parser(Array(text.utf8))
        p.skip()
        let v = try p.value()
        p.skip()
        if p.i < p.s.count { throw p.error("unexpected text after the end of the JSON value") }
        return v
    }

    struct Parser {
        let s: [UInt8]
        var i = 0
        /// Nesting depth; bounded so a pathological file cannot exhaust the stack.
        var depth = 0
        init(_ s: [UInt8]) { self.s = s }

        func error(_ m: String) -> SyntaxError {
            var line = 1, col = 1
            for k in 0..<min(i, s.count) { if s[k] == 10 { line += 1; col = 1 } else { col += 1 } }
            return SyntaxError(line: line, column: col, message: m)
        }

        mutating func skip() {
            while i < s.count {
                let c = s[i]
                if c == 32 || c == 9 || c == 10 || c == 13 { i += 1; continue }
                if c == 47, i + 1 < s.count, s[i + 1] == 47 { while i < s.count, s[i] != 10 { i += 1 }; continue }
                if c == 47, i + 1 < s.count, s[i + 1] == 42 {
                    i += 2
                    while i + 1 < s.count, !(s[i] == 42 && s[i + 1] == 47) { i += 1 }
                    i = min(i + 2, s.count); continue
                }
                break
            }
        }

        mutating func value() throws(SyntaxError) -> JSON {
            guard i < s.count else { throw error("unexpected end of file, expected a value") }
            guard depth < 200 else { throw error("nested more than 200 levels deep") }
            depth += 1
            defer { depth -= 1 }
            switch s[i] {
            case UInt8(ascii: "{"): return try object()
            case UInt8(ascii: "["): return try array()
            case UInt8(ascii: "\""): return .string(try string())
            case UInt8(ascii: "t"): try word("true"); return .bool(true)
            case UInt8(ascii: "f"): try word("false"); return .bool(false)
            case UInt8(ascii: "n"): try word("null"); return .null
            case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try number()
            default: throw error("unexpected character '\(Character(UnicodeScalar(s[i])))', expected a value")
            }
        }

        mutating func word(_ w: String) throws(SyntaxError) {
            let b = Array(w.utf8)
            guard i + b.count <= s.count, Array(s[i..<(i + b.count)]) == b else { throw error("invalid literal, expected \(w)") }
            i += b.count
        }

        mutating func number() throws(SyntaxError) -> JSON {
            let start = i
            while i < s.count, "+-0123456789.eE".utf8.contains(s[i]) { i += 1 }
            let text = String(decoding: s[start..<i], as: UTF8.self)
            guard let v = Double(text), v.isFinite else { i = start; throw error("invalid number '\(text)'") }
            return .number(v)
        }

        mutating func string() throws(SyntaxError) -> String {
            i += 1
            var bytes: [UInt8] = []
            while i < s.count {
                let c = s[i]
                if c == 34 { i += 1; return String(decoding: bytes, as: UTF8.self) }
                if c == 10 { throw error("unterminated string") }
                if c == 92 {
                    i += 1
                    guard i < s.count else { break }
                    switch s[i] {
                    case UInt8(ascii: "n"): bytes.append(10)
                    case UInt8(ascii: "t"): bytes.append(9)
                    case UInt8(ascii: "r"): bytes.append(13)
                    case UInt8(ascii: "b"): bytes.append(8)
                    case UInt8(ascii: "f"): bytes.append(12)
                    case UInt8(ascii: "u"):
                        // i is at the 'u'. UTF-16 surrogate pairs (\ud83d\ude42) make one scalar;
                        // a lone or mis-ordered surrogate is an error, never a U+FFFD.
                        guard let code = hex4(at: i + 1) else { throw error("invalid \\u escape: expected 4 hex digits after \\u") }
                        let written = "\\u" + String(decoding: s[(i + 1)...(i + 4)], as: UTF8.self)
                        var value = code
                        if (0xD800...0xDBFF).contains(code) {
                            guard i + 6 < s.count, s[i + 5] == 92, s[i + 6] == UInt8(ascii: "u"),
                                  let low = hex4(at: i + 7), (0xDC00...0xDFFF).contains(low) else {
                                throw error("lone surrogate \(written) in \\u escape: a high surrogate \\ud800–\\udbff must be followed by a low surrogate \\udc00–\\udfff")
                            }
                            value = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
                            i += 6
                        } else if (0xDC00...0xDFFF).contains(code) {
                            throw error("lone surrogate \(written) in \\u escape: a low surrogate \\udc00–\\udfff must follow a high surrogate \\ud800–\\udbff")
                        }
                        guard let scalar = UnicodeScalar(value) else { throw error("invalid \\u escape \(written)") }
                        bytes += Array(String(Character(scalar)).utf8); i += 4
                    default: bytes.append(s[i])
                    }
                    i += 1; continue
                }
                bytes.append(c); i += 1
            }
            throw error("unterminated string")
        }

        /// The value of the four hex digits at `k…k+3`, or nil (too short, or not hex: no sign, no space).
        func hex4(at k: Int) -> UInt32? {
            guard k >= 0, k + 3 < s.count else { return nil }
            var v: UInt32 = 0
            for c in s[k...(k + 3)] {
                let d: UInt8
                switch c {
                case UInt8(ascii: "0")...UInt8(ascii: "9"): d = c - UInt8(ascii: "0")
                case UInt8(ascii: "a")...UInt8(ascii: "f"): d = c - UInt8(ascii: "a") + 10
                case UInt8(ascii: "A")...UInt8(ascii: "F"): d = c - UInt8(ascii: "A") + 10
                default: return nil
                }
                v = v << 4 | UInt32(d)
            }
            return v
        }

        mutating func array() throws(SyntaxError) -> JSON {
            i += 1; skip()
            var xs: [JSON] = []
            if i < s.count, s[i] == UInt8(ascii: "]") { i += 1; return .array(xs) }
            while true {
                skip(); xs.append(try value()); skip()
                guard i < s.count else { throw error("unexpected end of file in a list, expected ']'") }
                if s[i] == UInt8(ascii: ",") { i += 1; skip(); if i < s.count, s[i] == UInt8(ascii: "]") { i += 1; return .array(xs) }; continue }
                if s[i] == UInt8(ascii: "]") { i += 1; return .array(xs) }
                throw error("expected ',' or ']' in a list")
            }
        }

        mutating func object() throws(SyntaxError) -> JSON {
            i += 1; skip()
            var pairs: [(key: String, value: JSON)] = []
            if i < s.count, s[i] == UInt8(ascii: "}") { i += 1; return .object(pairs) }
            while true {
                skip()
                guard i < s.count, s[i] == 34 else { throw error("expected a quoted key") }
                let k = try string()
                skip()
                guard i < s.count, s[i] == UInt8(ascii: ":") else { throw error("expected ':' after key \"\(k)\"") }
                i += 1; skip()
                if pairs.contains(where: { $0.key == k }) { throw error("duplicate key \"\(k)\"") }
                pairs.append((k, try value())); skip()
                guard i < s.count else { throw error("unexpected end of file in an object, expected '}'") }
                if s[i] == UInt8(ascii: ",") { i += 1; skip(); if i < s.count, s[i] == UInt8(ascii: "}") { i += 1; return .object(pairs) }; continue }
                if s[i] == UInt8(ascii: "}") { i += 1; return .object(pairs) }
                throw error("expected ',' or '}' in an object")
            }
        }
    }
}
