import Foundation

/// Classification losses over `scores (N × C)` and integer labels. Both return the mean loss
/// over the batch and write `dscores` (the gradient of that mean). O(N·C).
// The loss kernels: one generic function each, specialised for Float and Double
// (`@_specialize`), so callers generic over `T: Real` in any module reach specialised code.

/// Cross-entropy of softmax (max-shifted for stability); `dx = (softmax − onehot)/N`.
@_specialize(where T == Float)
@_specialize(where T == Double)
public func softmaxLoss<T: Real>(n: Int, c: Int, scores: UnsafePointer<T>, labels: UnsafePointer<Int32>, dscores: UnsafeMutablePointer<T>) -> T {
    var loss: T = 0
    let invN = 1 / T(n)
    for i in 0..<n {
        let s = scores + i * c, d = dscores + i * c
        var mx = s[0]
        for j in 1..<c where s[j] > mx { mx = s[j] }
        var sum: T = 0
        for j in 0..<c { let e = T(exp(Double(s[j] - mx))); d[j] = e; sum += e }
        let y = Int(labels[i])
        let logSum = T(log(Double(sum)))
        loss -= (s[y] - mx) - logSum
        let inv = 1 / sum
        for j in 0..<c { d[j] = d[j] * inv * invN }
        d[y] -= invN
    }
    return loss * invN
}

/// Multiclass hinge, margin 1: `Σ_{j≠y} max(0, s_j − s_y + 1)`, mean over the batch.
@_specialize(where T == Float)
@_specialize(where T == Double)
public func svmLoss<T: Real>(n: Int, c: Int, scores: UnsafePointer<T>, labels: UnsafePointer<Int32>, dscores: UnsafeMutablePointer<T>) -> T {
    var loss: T = 0
    let invN = 1 / T(n)
    for i in 0..<n {
        let s = scores + i * c, d = dscores + i * c
        let y = Int(labels[i])
        var positive = 0
        for j in 0..<c {
            if j == y { d[j] = 0; continue }
            let margin = s[j] - s[y] + 1
            if margin > 0 { loss += margin; d[j] = invN; positive += 1 } else { d[j] = 0 }
        }
        d[y] = -T(positive) * invN
    }
    return loss * invN
}
