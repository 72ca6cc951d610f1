/// The loss registry: every `model.loss` a config can name, each a `ClassificationLoss`
/// declared in its own file with its `LossKind` constant.
///
/// Adding a loss: write its file and add the type to `Losses.all`. Swift has no load-time
/// hook a file could use to register itself, so that one line is the registration.
public enum Losses {
    public static let all: [any ClassificationLoss.Type] = [SoftmaxLoss.self, SVMLoss.self]
    public static func named(_ name: String) -> (any ClassificationLoss.Type)? { all.first { $0.name == name } }
}

/// A classification loss at the top of a network.
public protocol ClassificationLoss: Sendable {
    /// The config name (`model.loss`).
    static var name: String { get }
    /// Mean loss over `n` rows of `c` class scores; writes the gradient `dscores`. O(N·C).
    static func evaluate<T: Real>(n: Int, c: Int, scores: UnsafePointer<T>, labels: UnsafePointer<Int32>,
                                  dscores: UnsafeMutablePointer<T>) -> T
}

/// A loss by name: one of `Losses.all`.
public struct LossKind: Hashable, Sendable, RawRepresentable, CaseIterable, CustomStringConvertible {
    public let rawValue: String
    /// nil for a name no loss is registered under.
    public init?(rawValue: String) {
        guard Losses.named(rawValue) != nil else { return nil }
        self.rawValue = rawValue
    }
    public init(_ loss: any ClassificationLoss.Type) { rawValue = loss.name }
    public static var allCases: [LossKind] { Losses.all.map { LossKind($0) } }
    public var description: String { rawValue }

    /// Mean loss over the batch of `scores (N, C)`; writes `dscores`. O(N·C).
    public func evaluate<T: Real>(scores: Tensor<T>, labels: UnsafePointer<Int32>, dscores: Tensor<T>) -> T {
        dscores.resize(scores.shape)
        return Losses.named(rawValue)!.evaluate(n: scores.rows, c: scores.rowSize, scores: scores.data, labels: labels, dscores: dscores.data)
    }
}
