/// A path into a config: dotted keys, each optionally followed by list indices, as sweeps
/// and arms write them: `"optimizer.learning_rate"`, `"model.layers[0].filters"`.
public struct ConfigPath: Equatable, Sendable, CustomStringConvertible {
    public enum Segment: Equatable, Sendable { case key(String), index(Int) }
    public let segments: [Segment]
    public let description: String

    /// nil when `text` is not of that form (an empty key, an unclosed or non-numeric index).
    public init?(_ text: String) {
        var segments: [Segment] = []
        for part in text.split(separator: ".", omittingEmptySubsequences: false) {
            guard let open = part.firstIndex(of: "[") ?? Optional(part.endIndex) else { return nil }
            let key = part[..<open]
            guard !key.isEmpty, !key.contains("]") else { return nil }
            segments.append(.key(String(key)))
            var rest = part[open...]
            while !rest.isEmpty {
                guard rest.first == "[", let close = rest.firstIndex(of: "]"),
                      let i = Int(rest[rest.index(after: rest.startIndex)..<close]), i >= 0 else { return nil }
                segments.append(.index(i))
                rest = rest[rest.index(after: close)...]
            }
        }
        self.segments = segments
        description = text
    }

    /// Whether any segment is a list index.
    public var hasIndex: Bool { segments.contains { if case .index = $0 { return true }; return false } }
}

extension JSON {
    /// The value at `path`, nil when any part is missing (or an index is out of range).
    public subscript(path path: ConfigPath) -> JSON? {
        var cur: JSON? = self
        for s in path.segments {
            switch s {
            case .key(let k): cur = cur?[k]
            case .index(let i): if case .array(let xs)? = cur, i < xs.count { cur = xs[i] } else { return nil }
            }
        }
        return cur
    }

    /// A copy with the value at `path` replaced (keys are added; an index must exist, else
    /// the copy is unchanged — paths are validated before they are applied).
    public func setting(_ path: ConfigPath, to value: JSON) -> JSON { setting(path.segments[...], to: value) }

    private func setting(_ path: ArraySlice<ConfigPath.Segment>, to value: JSON) -> JSON {
        guard let head = path.first else { return value }
        switch head {
        case .key(let k):
            let inner = (self[k] ?? .null).setting(path.dropFirst(), to: value)
            return self.setting(path: [k], to: inner)
        case .index(let i):
            guard case .array(var xs) = self, i < xs.count else { return self }
            xs[i] = xs[i].setting(path.dropFirst(), to: value)
            return .array(xs)
        }
    }
}
