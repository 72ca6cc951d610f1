import Foundation

/// Elementwise and reduction kernels over flat buffers. Each is O(count).
// The elementwise kernels: one generic function each, specialised for Float and Double
// (`@_specialize`), so callers generic over `T: Real` in any module reach specialised code.

/// `y[i, j] = x[i, j] + bias[j]` for `rows × cols`; `relu` also clamps at 0 (fused affine+relu).
@_specialize(where T == Float)
@_specialize(where T == Double)
public func addBias<T: Real>(rows: Int, cols: Int, bias: UnsafePointer<T>, y: UnsafeMutablePointer<T>, relu: Bool) {
    for i in 0..<rows {
        let r = y + i * cols
        var j = 0
        if relu {
            while j < cols { let v = r[j] + bias[j]; r[j] = v > 0 ? v : 0; j += 1 }
        } else {
            while j + 16 <= cols { store16(load16(r, j) + load16(bias, j), r, j); j += 16 }
            while j < cols { r[j] += bias[j]; j += 1 }
        }
    }
}

/// `out[j] (+)= Σ_i x[i, j]` for `rows × cols`.
@_specialize(where T == Float)
@_specialize(where T == Double)
public func columnSum<T: Real>(rows: Int, cols: Int, x: UnsafePointer<T>, out: UnsafeMutablePointer<T>, accumulate: Bool) {
    if !accumulate { out.update(repeating: 0, count: cols) }
    for i in 0..<rows {
        let r = x + i * cols
        var j = 0
        while j + 16 <= cols { store16(load16(out, j) + load16(r, j), out, j); j += 16 }
        while j < cols { out[j] += r[j]; j += 1 }
    }
}

/// `y = max(x, 0)`.
@_specialize(where T == Float)
@_specialize(where T == Double)
public func reluForward<T: Real>(count: Int, x: UnsafePointer<T>, y: UnsafeMutablePointer<T>) {
    var i = 0
    while i < count { let v = x[i]; y[i] = v > 0 ? v : 0; i += 1 }
}

/// `dx = dout · [y > 0]` (y is the relu output; same mask as x > 0).
@_specialize(where T == Float)
@_specialize(where T == Double)
public func reluBackward<T: Real>(count: Int, y: UnsafePointer<T>, dout: UnsafePointer<T>, dx: UnsafeMutablePointer<T>) {
    var i = 0
    while i < count { dx[i] = y[i] > 0 ? dout[i] : 0; i += 1 }
}

/// `z = x · y`.
@_specialize(where T == Float)
@_specialize(where T == Double)
public func multiply<T: Real>(count: Int, x: UnsafePointer<T>, y: UnsafePointer<T>, z: UnsafeMutablePointer<T>) {
    var i = 0
    while i + 16 <= count { store16(load16(x, i) * load16(y, i), z, i); i += 16 }
    while i < count { z[i] = x[i] * y[i]; i += 1 }
}

/// `y += alpha · x`.
@_specialize(where T == Float)
@_specialize(where T == Double)
public func axpy<T: Real>(count: Int, alpha: T, x: UnsafePointer<T>, y: UnsafeMutablePointer<T>) {
    let va = SIMD16<T>(repeating: alpha)
    var i = 0
    while i + 16 <= count { store16(load16(y, i) + va * load16(x, i), y, i); i += 16 }
    while i < count { y[i] += alpha * x[i]; i += 1 }
}

/// `Σ x²`, accumulated in Double.
@_specialize(where T == Float)
@_specialize(where T == Double)
public func sumOfSquares<T: Real>(count: Int, x: UnsafePointer<T>) -> Double {
    var s: Double = 0
    for i in 0..<count { let v = Double(x[i]); s += v * v }
    return s
}

/// Inverted-dropout mask: `mask[i] = (u < 1 − p) / (1 − p)` with `u` uniform from `rng`.
@_specialize(where T == Float)
@_specialize(where T == Double)
public func dropoutMask<T: Real>(count: Int, p: Double, rng: inout SeededGenerator, mask: UnsafeMutablePointer<T>) {
    let keep = 1 - p
    let scale = T(1 / keep)
    for i in 0..<count { mask[i] = rng.uniform() < keep ? scale : 0 }
}

/// Index of the largest entry of each row (first one on ties).
@_specialize(where T == Float)
@_specialize(where T == Double)
public func argmaxRows<T: Real>(rows: Int, cols: Int, x: UnsafePointer<T>, out: UnsafeMutablePointer<Int32>) {
    for i in 0..<rows {
        let r = x + i * cols
        var best = 0
        var bv = r[0]
        for j in 1..<max(cols, 1) where r[j] > bv { bv = r[j]; best = j }
        out[i] = Int32(best)
    }
}

/// `dst[i, :] = src[rows[i], :]` converting from Float storage (datasets are Float).
@_specialize(where T == Float)
@_specialize(where T == Double)
public func gatherRows<T: Real>(from src: UnsafePointer<Float>, rowSize: Int, rows: UnsafePointer<Int>, count: Int, into dst: UnsafeMutablePointer<T>) {
    for i in 0..<count {
        let s = src + rows[i] * rowSize
        let d = dst + i * rowSize
        if T.self == Float.self {
            UnsafeMutableRawPointer(d).copyMemory(from: s, byteCount: rowSize * MemoryLayout<Float>.stride)
        } else {
            for j in 0..<rowSize { d[j] = T(s[j]) }
        }
    }
}
