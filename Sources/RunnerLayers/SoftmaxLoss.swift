/// softmax: cross-entropy of the softmax of the scores, `−log(e^{s_y} / Σ_j e^{s_j})`, averaged
/// over the batch (SPEC §2); `dscores = (softmax − onehot(y)) / N`.
public enum SoftmaxLoss: ClassificationLoss {
    public static let name = "softmax"
    public static func evaluate<T: Real>(n: Int, c: Int, scores: UnsafePointer<T>, labels: UnsafePointer<Int32>,
                                         dscores: UnsafeMutablePointer<T>) -> T {
        softmaxLoss(n: n, c: c, scores: scores, labels: labels, dscores: dscores)
    }
}

extension LossKind { public static var softmax: LossKind { LossKind(registered: SoftmaxLoss.name) } }
