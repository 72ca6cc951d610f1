/// A registry of named kinds (update rules, losses, …): the names a config may use.
public protocol NameRegistry {
    static var names: [String] { get }
}

/// A name registered in `R`, as a config's choice field decodes to it (`OptimizerKind`,
/// `LossKind`). Each kind's file adds its constant (`extension LossKind { static var svm … }`).
public struct RegisteredName<R: NameRegistry>: Hashable, Sendable, RawRepresentable, CaseIterable, CustomStringConvertible {
    public let rawValue: String
    /// nil for a name nothing is registered under.
    public init?(rawValue: String) {
        guard R.names.contains(rawValue) else { return nil }
        self.rawValue = rawValue
    }
    /// A name known to be registered (a kind's own constant).
    public init(registered name: String) {
        precondition(R.names.contains(name), "\(name) is not registered in \(R.self)")
        rawValue = name
    }
    public static var allCases: [RegisteredName<R>] { R.names.map { RegisteredName(registered: $0) } }
    public var description: String { rawValue }
}
