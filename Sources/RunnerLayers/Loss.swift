/// The loss registry: every `model.loss` a config can name, each a `ClassificationLoss`
/// declared in its own file with its `LossKind` constant.
///
/// Adding a loss: write its file and add the type to `Losses.all`. Swift has no load-time
/// hook a file could use to register itself, so that one line is the registration.
public enum Losses: NameRegistry {
    public static let all: [any ClassificationLoss.Type] = [SoftmaxLoss.self, SVMLoss.self]
    public static var names: [String] { all.map { $0.name } }
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
public typealias LossKind = RegisteredName<Losses>

extension RegisteredName where R == Losses {
    /// Mean loss over the batch of `scores (N, C)`; writes `dscores`. O(N·C).
    public func evaluate<T: Real>(scores: Tensor<T>, labels: UnsafePointer<Int32>, dscores: Tensor<T>) -> T {
        dscores.resize(scores.shape)
        return Losses.named(rawValue)!.evaluate(n: scores.rows, c: scores.rowSize, scores: scores.data, labels: labels, dscores: dscores.data)
    }
}
