/// The sweep-kind registry: every section of `sweep` that adds axes to the trial list
/// (`grid`, `zip`, `random`), each declared in its own file as a `SweepKind`. `Sweep.plan` expands the
/// kinds in this order (each one's axes after the previous one's, the first axis varying
/// slowest), then repeats, then arms innermost.
///
/// Adding a kind: write its file and add the type to `SweepKinds.all`. Swift has no
/// load-time hook a file could use to register itself, so that one line is the registration.
public enum SweepKinds {
    public static let all: [any SweepKind.Type] = [GridSweep.self, ZipSweep.self, RandomSweep.self]
}

/// A `sweep` section that contributes axes: lists of assignments, one per value of the axis.
public protocol SweepKind: Sendable {
    /// The key under `sweep`.
    static var name: String { get }
    /// Its syntax and meaning, one line, for `runner help config`.
    static var syntax: String { get }
    /// Adds the axes `spec` describes to `builder` (checking paths, claiming them, expanding
    /// value lists through the builder, so errors name the JSON path).
    static func expand(_ spec: JSON, into builder: inout SweepBuilder) throws(ConfigError)
}

/// What a sweep kind works with while expanding: the axes and summary columns so far, and
/// which section sweeps each path (a path may be swept in one place only).
public struct SweepBuilder {
    /// axis → values → assignments.
    public internal(set) var axes: [[[(path: String, value: JSON)]]] = []
    /// Swept paths in summary-column order.
    public internal(set) var columns: [String] = []
    var sweptBy: [String: String] = [:]
    /// The config without its sweep, resolved (paths into its layer list are checked against it).
    let base: JSON

    init(base: JSON) { self.base = base }

    /// Checks `path` is a sweepable config field and that no other section sweeps it;
    /// `place` (e.g. `sweep.grid`) is where it is written, for messages.
    public mutating func claim(_ path: String, at place: String) throws(ConfigError) {
        try Sweep.checkPath(path, at: place, base: base)
        if let other = sweptBy[path] {
            throw .invalidValue(path: place, message: "\"\(path)\" is also swept in \(other); sweep each path in one place only")
        }
        sweptBy[path] = place
    }

    /// The values of a list, `{"logspace": [a, b, n]}` or `{"linspace": [a, b, n]}` at `path`.
    public func values(_ spec: JSON, at path: String) throws(ConfigError) -> [JSON] { try Sweep.expandValues(spec, path: path) }

    /// Adds one axis (its values' assignments) and its summary columns.
    public mutating func addAxis(_ values: [[(path: String, value: JSON)]], columns: [String]) {
        axes.append(values)
        self.columns += columns
    }
}
