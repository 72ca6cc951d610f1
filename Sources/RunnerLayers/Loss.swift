/// The classification loss at the top of a network.
public enum LossKind: String, Sendable, CaseIterable {
    case softmax, svm

    /// Mean loss over the batch of `scores (N, C)`; writes `dscores`. O(N·C).
    public func evaluate<T: Real>(scores: Tensor<T>, labels: UnsafePointer<Int32>, dscores: Tensor<T>) -> T {
        let n = scores.rows, c = scores.rowSize
        dscores.resize(scores.shape)
        switch self {
        case .softmax: return T.softmaxLoss(n: n, c: c, scores: scores.data, labels: labels, dscores: dscores.data)
        case .svm: return T.svmLoss(n: n, c: c, scores: scores.data, labels: labels, dscores: dscores.data)
        }
    }
}
