/// A config problem a person can act on: where in the JSON (a dotted path), what was
/// expected, and for misspelled keys the nearest valid one. Exit code 2.
public enum ConfigError: Error, Equatable, CustomStringConvertible, Sendable {
    case unreadable(file: String, reason: String)
    case syntax(file: String, line: Int, column: Int, message: String)
    case unknownKey(path: String, key: String, suggestion: String?)
    case wrongType(path: String, expected: String, found: String)
    case invalidValue(path: String, message: String)
    case shape(path: String, message: String)
    /// The data the config names cannot be read (a missing or malformed file): reported as
    /// a data error, exit code 1.
    case data(DataError)
    /// A problem inside one expanded sweep trial.
    case inTrial(index: Int, arm: String?, underlying: ConfigErrorBox)

    public var description: String {
        switch self {
        case let .unreadable(f, r): return "cannot read config \(f): \(r)"
        case let .syntax(f, l, c, m): return "\(f):\(l):\(c): invalid JSON: \(m)"
        case let .unknownKey(p, k, s):
            let at = p.isEmpty ? "top level" : p
            return "\(at): unknown key \(displayString(k))" + (s.map { " (did you mean \"\($0)\"?)" } ?? "")
        case let .wrongType(p, e, f): return "\(p): expected \(e), found \(f)"
        case let .invalidValue(p, m): return "\(p): \(m)"
        case let .shape(p, m): return "\(p): layer shapes do not fit: \(m)"
        case let .data(e): return e.description
        case let .inTrial(i, arm, e):
            return "sweep trial \(i)" + (arm.map { " (arm \($0))" } ?? "") + ": \(e.error.description)"
        }
    }
}

extension ConfigError {
    /// The data error inside (possibly within a sweep trial), if that is what this is.
    public var dataError: DataError? {
        switch self {
        case .data(let e): return e
        case .inTrial(_, _, let box): return box.error.dataError
        default: return nil
        }
    }
}

/// Indirection so `ConfigError` can nest itself.
public final class ConfigErrorBox: Equatable, Sendable {
    public let error: ConfigError
    public init(_ e: ConfigError) { error = e }
    public static func == (a: ConfigErrorBox, b: ConfigErrorBox) -> Bool { a.error == b.error }
}

/// Levenshtein distance, for "did you mean" suggestions.
func editDistance(_ a: String, _ b: String) -> Int {
    let a = Array(a.lowercased()), b = Array(b.lowercased())
    if a.isEmpty { return b.count }
    if b.isEmpty { return a.count }
    var prev = Array(0...b.count), cur = [Int](repeating: 0, count: b.count + 1)
    for i in 1...a.count {
        cur[0] = i
        for j in 1...b.count {
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
        }
        swap(&prev, &cur)
    }
    return prev[b.count]
}

/// The closest candidate within a small edit distance (or sharing a prefix), if any.
public func nearest(_ key: String, in candidates: [String]) -> String? {
    let scored = candidates.map { ($0, editDistance(key, $0)) }.sorted { $0.1 < $1.1 }
    guard let best = scored.first else { return nil }
    if best.1 <= max(2, key.count / 3) { return best.0 }
    if let p = candidates.first(where: { $0.hasPrefix(key) || key.hasPrefix($0) }), key.count >= 3 { return p }
    return nil
}
