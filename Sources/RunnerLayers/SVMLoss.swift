/// svm: multiclass hinge loss `Σ_{j≠y} max(0, s_j − s_y + 1)`, averaged over the batch (SPEC §2).
public enum SVMLoss: ClassificationLoss {
    public static let name = "svm"
    public static func evaluate<T: Real>(n: Int, c: Int, scores: UnsafePointer<T>, labels: UnsafePointer<Int32>,
                                         dscores: UnsafeMutablePointer<T>) -> T {
        svmLoss(n: n, c: c, scores: scores, labels: labels, dscores: dscores)
    }
}

extension LossKind { public static var svm: LossKind { LossKind(registered: SVMLoss.name) } }
