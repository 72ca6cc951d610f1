import Foundation

/// Normalisation kernels. Batch normalisation works on a `(N, C, S)` layout: statistics per
/// channel `c` over the `N·S` values `x[(n·C + c)·S + s]`. Vanilla batchnorm is `S = 1`,
/// spatial batchnorm is `S = H·W`. Layer normalisation works per row of an `N × D` matrix.
/// All are O(N·C·S) with two passes over the input.
// The norm kernels: one generic function each, specialised for Float and Double
// (`@_specialize`), so callers generic over `T: Real` in any module reach specialised code.

/// Train mode: batch mean and biased variance; writes `xhat`, `mean` (C), `invStd` (C) = 1/√(σ²+eps),
/// `y = γ·x̂ + β`; `running = momentum·running + (1 − momentum)·batch`.
@_specialize(where T == Float)
@_specialize(where T == Double)
public func batchnormForwardTrain<T: Real>(n: Int, c: Int, s: Int, x: UnsafePointer<T>, gamma: UnsafePointer<T>, beta: UnsafePointer<T>,
                                       eps: T, momentum: T, runningMean: UnsafeMutablePointer<T>, runningVar: UnsafeMutablePointer<T>,
                                       mean: UnsafeMutablePointer<T>, invStd: UnsafeMutablePointer<T>,
                                       xhat: UnsafeMutablePointer<T>, y: UnsafeMutablePointer<T>) {
    let m = T(n * s)
    mean.update(repeating: 0, count: c)
    invStd.update(repeating: 0, count: c)   // holds the variance until the end
    if s == 1 {
        for i in 0..<n { let r = x + i * c; for j in 0..<c { mean[j] += r[j] } }
        for j in 0..<c { mean[j] /= m }
        for i in 0..<n { let r = x + i * c; for j in 0..<c { let d = r[j] - mean[j]; invStd[j] += d * d } }
    } else {
        for i in 0..<n { for j in 0..<c {
            let r = x + (i * c + j) * s; var acc: T = 0
            for k in 0..<s { acc += r[k] }
            mean[j] += acc
        } }
        for j in 0..<c { mean[j] /= m }
        for i in 0..<n { for j in 0..<c {
            let r = x + (i * c + j) * s; let mu = mean[j]; var acc: T = 0
            for k in 0..<s { let d = r[k] - mu; acc += d * d }
            invStd[j] += acc
        } }
    }
    for j in 0..<c {
        let v = invStd[j] / m
        runningMean[j] = momentum * runningMean[j] + (1 - momentum) * mean[j]
        runningVar[j] = momentum * runningVar[j] + (1 - momentum) * v
        invStd[j] = 1 / (v + eps).squareRoot()
    }
    if s == 1 {
        for i in 0..<n {
            let r = x + i * c, h = xhat + i * c, o = y + i * c
            for j in 0..<c { let xh = (r[j] - mean[j]) * invStd[j]; h[j] = xh; o[j] = gamma[j] * xh + beta[j] }
        }
    } else {
        for i in 0..<n { for j in 0..<c {
            let off = (i * c + j) * s; let mu = mean[j], inv = invStd[j], g = gamma[j], b = beta[j]
            for k in 0..<s { let xh = (x[off + k] - mu) * inv; xhat[off + k] = xh; y[off + k] = g * xh + b }
        } }
    }
}

/// Test mode: normalise with the running statistics.
@_specialize(where T == Float)
@_specialize(where T == Double)
public func batchnormForwardTest<T: Real>(n: Int, c: Int, s: Int, x: UnsafePointer<T>, gamma: UnsafePointer<T>, beta: UnsafePointer<T>,
                                      eps: T, runningMean: UnsafePointer<T>, runningVar: UnsafePointer<T>,
                                      scratch: UnsafeMutablePointer<T>, y: UnsafeMutablePointer<T>) {
    // scratch (2c): per-channel scale and shift so that y = scale·x + shift
    for j in 0..<c {
        let inv = 1 / (runningVar[j] + eps).squareRoot()
        scratch[j] = gamma[j] * inv
        scratch[c + j] = beta[j] - gamma[j] * inv * runningMean[j]
    }
    if s == 1 {
        for i in 0..<n { let r = x + i * c, o = y + i * c; for j in 0..<c { o[j] = (r[j] - runningMean[j]) * scratch[j] + beta[j] } }
    } else {
        for i in 0..<n { for j in 0..<c {
            let off = (i * c + j) * s; let mu = runningMean[j], sc = scratch[j], b = beta[j]
            for k in 0..<s { y[off + k] = (x[off + k] - mu) * sc + b }
        } }
    }
}

/// Closed form: `dx = γ/(M·√(σ²+eps)) · (M·dout − Σdout − x̂·Σ(dout·x̂))`, `M = N·S`;
/// `dγ = Σ dout·x̂`, `dβ = Σ dout`. `dx` may be nil (input gradient not needed).
@_specialize(where T == Float)
@_specialize(where T == Double)
public func batchnormBackward<T: Real>(n: Int, c: Int, s: Int, dout: UnsafePointer<T>, xhat: UnsafePointer<T>, invStd: UnsafePointer<T>,
                                   gamma: UnsafePointer<T>, dx: UnsafeMutablePointer<T>?,
                                   dgamma: UnsafeMutablePointer<T>, dbeta: UnsafeMutablePointer<T>) {
    dgamma.update(repeating: 0, count: c)
    dbeta.update(repeating: 0, count: c)
    if s == 1 {
        for i in 0..<n {
            let g = dout + i * c, h = xhat + i * c
            for j in 0..<c { dbeta[j] += g[j]; dgamma[j] += g[j] * h[j] }
        }
    } else {
        for i in 0..<n { for j in 0..<c {
            let off = (i * c + j) * s; var sb: T = 0, sg: T = 0
            for k in 0..<s { sb += dout[off + k]; sg += dout[off + k] * xhat[off + k] }
            dbeta[j] += sb; dgamma[j] += sg
        } }
    }
    guard let dx else { return }
    let m = T(n * s)
    if s == 1 {
        for i in 0..<n {
            let g = dout + i * c, h = xhat + i * c, o = dx + i * c
            for j in 0..<c { o[j] = gamma[j] * invStd[j] / m * (m * g[j] - dbeta[j] - h[j] * dgamma[j]) }
        }
    } else {
        for i in 0..<n { for j in 0..<c {
            let off = (i * c + j) * s; let k0 = gamma[j] * invStd[j] / m, db = dbeta[j], dg = dgamma[j]
            for k in 0..<s { dx[off + k] = k0 * (m * dout[off + k] - db - xhat[off + k] * dg) }
        } }
    }
}

/// Layer norm forward for `n × d`: per-row statistics, `invStd` has `n` entries.
@_specialize(where T == Float)
@_specialize(where T == Double)
public func layernormForward<T: Real>(n: Int, d: Int, x: UnsafePointer<T>, gamma: UnsafePointer<T>, beta: UnsafePointer<T>, eps: T,
                                  invStd: UnsafeMutablePointer<T>, xhat: UnsafeMutablePointer<T>, y: UnsafeMutablePointer<T>) {
    let dd = T(d)
    for i in 0..<n {
        let r = x + i * d, h = xhat + i * d, o = y + i * d
        var mu: T = 0
        for j in 0..<d { mu += r[j] }
        mu /= dd
        var v: T = 0
        for j in 0..<d { let t = r[j] - mu; v += t * t }
        let inv = 1 / (v / dd + eps).squareRoot()
        invStd[i] = inv
        for j in 0..<d { let xh = (r[j] - mu) * inv; h[j] = xh; o[j] = gamma[j] * xh + beta[j] }
    }
}

/// Layer norm backward: `dx = invStd/D · (D·g − Σg − x̂·Σ(g·x̂))` with `g = dout·γ` per row.
@_specialize(where T == Float)
@_specialize(where T == Double)
public func layernormBackward<T: Real>(n: Int, d: Int, dout: UnsafePointer<T>, xhat: UnsafePointer<T>, invStd: UnsafePointer<T>,
                                   gamma: UnsafePointer<T>, dx: UnsafeMutablePointer<T>?,
                                   dgamma: UnsafeMutablePointer<T>, dbeta: UnsafeMutablePointer<T>) {
    dgamma.update(repeating: 0, count: d)
    dbeta.update(repeating: 0, count: d)
    let dd = T(d)
    for i in 0..<n {
        let g = dout + i * d, h = xhat + i * d
        for j in 0..<d { dbeta[j] += g[j]; dgamma[j] += g[j] * h[j] }
        guard let dx else { continue }
        var sg: T = 0, sgh: T = 0
        for j in 0..<d { let gj = g[j] * gamma[j]; sg += gj; sgh += gj * h[j] }
        let o = dx + i * d, k0 = invStd[i] / dd
        for j in 0..<d { o[j] = k0 * (dd * g[j] * gamma[j] - sg - h[j] * sgh) }
    }
}
