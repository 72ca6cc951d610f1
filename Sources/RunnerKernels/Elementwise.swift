import Foundation

/// Elementwise and reduction kernels over flat buffers. Each is O(count).
public protocol ElementwiseKernels {
    /// `y[i, j] = x[i, j] + bias[j]` for `rows × cols`; `relu` also clamps at 0 (fused affine+relu).
    static func addBias(rows: Int, cols: Int, bias: UnsafePointer<Self>, y: UnsafeMutablePointer<Self>, relu: Bool)
    /// `out[j] (+)= Σ_i x[i, j]` for `rows × cols`.
    static func columnSum(rows: Int, cols: Int, x: UnsafePointer<Self>, out: UnsafeMutablePointer<Self>, accumulate: Bool)
    /// `y = max(x, 0)`.
    static func reluForward(count: Int, x: UnsafePointer<Self>, y: UnsafeMutablePointer<Self>)
    /// `dx = dout · [y > 0]` (y is the relu output; same mask as x > 0).
    static func reluBackward(count: Int, y: UnsafePointer<Self>, dout: UnsafePointer<Self>, dx: UnsafeMutablePointer<Self>)
    /// `z = x · y`.
    static func multiply(count: Int, x: UnsafePointer<Self>, y: UnsafePointer<Self>, z: UnsafeMutablePointer<Self>)
    /// `y += alpha · x`.
    static func axpy(count: Int, alpha: Self, x: UnsafePointer<Self>, y: UnsafeMutablePointer<Self>)
    /// `Σ x²`, accumulated in Double.
    static func sumOfSquares(count: Int, x: UnsafePointer<Self>) -> Double
    /// Inverted-dropout mask: `mask[i] = (u < 1 − p) / (1 − p)` with `u` uniform from `rng`.
    static func dropoutMask(count: Int, p: Double, rng: inout SeededGenerator, mask: UnsafeMutablePointer<Self>)
    /// Index of the largest entry of each row (first one on ties).
    static func argmaxRows(rows: Int, cols: Int, x: UnsafePointer<Self>, out: UnsafeMutablePointer<Int32>)
    /// `dst[i, :] = src[rows[i], :]` converting from Float storage (datasets are Float).
    static func gatherRows(from src: UnsafePointer<Float>, rowSize: Int, rows: UnsafePointer<Int>, count: Int, into dst: UnsafeMutablePointer<Self>)
}

@inline(__always)
func addBiasImpl<T: Real>(rows: Int, cols: Int, bias: UnsafePointer<T>, y: UnsafeMutablePointer<T>, relu: Bool) {
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

@inline(__always)
func columnSumImpl<T: Real>(rows: Int, cols: Int, x: UnsafePointer<T>, out: UnsafeMutablePointer<T>, accumulate: Bool) {
    if !accumulate { out.update(repeating: 0, count: cols) }
    for i in 0..<rows {
        let r = x + i * cols
        var j = 0
        while j + 16 <= cols { store16(load16(out, j) + load16(r, j), out, j); j += 16 }
        while j < cols { out[j] += r[j]; j += 1 }
    }
}

@inline(__always)
func reluForwardImpl<T: Real>(count: Int, x: UnsafePointer<T>, y: UnsafeMutablePointer<T>) {
    var i = 0
    while i < count { let v = x[i]; y[i] = v > 0 ? v : 0; i += 1 }
}

@inline(__always)
func reluBackwardImpl<T: Real>(count: Int, y: UnsafePointer<T>, dout: UnsafePointer<T>, dx: UnsafeMutablePointer<T>) {
    var i = 0
    while i < count { dx[i] = y[i] > 0 ? dout[i] : 0; i += 1 }
}

@inline(__always)
func multiplyImpl<T: Real>(count: Int, x: UnsafePointer<T>, y: UnsafePointer<T>, z: UnsafeMutablePointer<T>) {
    var i = 0
    while i + 16 <= count { store16(load16(x, i) * load16(y, i), z, i); i += 16 }
    while i < count { z[i] = x[i] * y[i]; i += 1 }
}

@inline(__always)
func axpyImpl<T: Real>(count: Int, alpha: T, x: UnsafePointer<T>, y: UnsafeMutablePointer<T>) {
    let va = SIMD16<T>(repeating: alpha)
    var i = 0
    while i + 16 <= count { store16(load16(y, i) + va * load16(x, i), y, i); i += 16 }
    while i < count { y[i] += alpha * x[i]; i += 1 }
}

@inline(__always)
func sumOfSquaresImpl<T: Real>(count: Int, x: UnsafePointer<T>) -> Double {
    var s: Double = 0
    for i in 0..<count { let v = Double(x[i]); s += v * v }
    return s
}

@inline(__always)
func dropoutMaskImpl<T: Real>(count: Int, p: Double, rng: inout SeededGenerator, mask: UnsafeMutablePointer<T>) {
    let keep = 1 - p
    let scale = T(1 / keep)
    for i in 0..<count { mask[i] = rng.uniform() < keep ? scale : 0 }
}

@inline(__always)
func argmaxRowsImpl<T: Real>(rows: Int, cols: Int, x: UnsafePointer<T>, out: UnsafeMutablePointer<Int32>) {
    for i in 0..<rows {
        let r = x + i * cols
        var best = 0
        var bv = r[0]
        for j in 1..<max(cols, 1) where r[j] > bv { bv = r[j]; best = j }
        out[i] = Int32(best)
    }
}

@inline(__always)
func gatherRowsImpl<T: Real>(from src: UnsafePointer<Float>, rowSize: Int, rows: UnsafePointer<Int>, count: Int, into dst: UnsafeMutablePointer<T>) {
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

extension Float: ElementwiseKernels {
    public static func addBias(rows: Int, cols: Int, bias: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>, relu: Bool) { addBiasImpl(rows: rows, cols: cols, bias: bias, y: y, relu: relu) }
    public static func columnSum(rows: Int, cols: Int, x: UnsafePointer<Float>, out: UnsafeMutablePointer<Float>, accumulate: Bool) { columnSumImpl(rows: rows, cols: cols, x: x, out: out, accumulate: accumulate) }
    public static func reluForward(count: Int, x: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>) { reluForwardImpl(count: count, x: x, y: y) }
    public static func reluBackward(count: Int, y: UnsafePointer<Float>, dout: UnsafePointer<Float>, dx: UnsafeMutablePointer<Float>) { reluBackwardImpl(count: count, y: y, dout: dout, dx: dx) }
    public static func multiply(count: Int, x: UnsafePointer<Float>, y: UnsafePointer<Float>, z: UnsafeMutablePointer<Float>) { multiplyImpl(count: count, x: x, y: y, z: z) }
    public static func axpy(count: Int, alpha: Float, x: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>) { axpyImpl(count: count, alpha: alpha, x: x, y: y) }
    public static func sumOfSquares(count: Int, x: UnsafePointer<Float>) -> Double { sumOfSquaresImpl(count: count, x: x) }
    public static func dropoutMask(count: Int, p: Double, rng: inout SeededGenerator, mask: UnsafeMutablePointer<Float>) { dropoutMaskImpl(count: count, p: p, rng: &rng, mask: mask) }
    public static func argmaxRows(rows: Int, cols: Int, x: UnsafePointer<Float>, out: UnsafeMutablePointer<Int32>) { argmaxRowsImpl(rows: rows, cols: cols, x: x, out: out) }
    public static func gatherRows(from src: UnsafePointer<Float>, rowSize: Int, rows: UnsafePointer<Int>, count: Int, into dst: UnsafeMutablePointer<Float>) { gatherRowsImpl(from: src, rowSize: rowSize, rows: rows, count: count, into: dst) }
}

extension Double: ElementwiseKernels {
    public static func addBias(rows: Int, cols: Int, bias: UnsafePointer<Double>, y: UnsafeMutablePointer<Double>, relu: Bool) { addBiasImpl(rows: rows, cols: cols, bias: bias, y: y, relu: relu) }
    public static func columnSum(rows: Int, cols: Int, x: UnsafePointer<Double>, out: UnsafeMutablePointer<Double>, accumulate: Bool) { columnSumImpl(rows: rows, cols: cols, x: x, out: out, accumulate: accumulate) }
    public static func reluForward(count: Int, x: UnsafePointer<Double>, y: UnsafeMutablePointer<Double>) { reluForwardImpl(count: count, x: x, y: y) }
    public static func reluBackward(count: Int, y: UnsafePointer<Double>, dout: UnsafePointer<Double>, dx: UnsafeMutablePointer<Double>) { reluBackwardImpl(count: count, y: y, dout: dout, dx: dx) }
    public static func multiply(count: Int, x: UnsafePointer<Double>, y: UnsafePointer<Double>, z: UnsafeMutablePointer<Double>) { multiplyImpl(count: count, x: x, y: y, z: z) }
    public static func axpy(count: Int, alpha: Double, x: UnsafePointer<Double>, y: UnsafeMutablePointer<Double>) { axpyImpl(count: count, alpha: alpha, x: x, y: y) }
    public static func sumOfSquares(count: Int, x: UnsafePointer<Double>) -> Double { sumOfSquaresImpl(count: count, x: x) }
    public static func dropoutMask(count: Int, p: Double, rng: inout SeededGenerator, mask: UnsafeMutablePointer<Double>) { dropoutMaskImpl(count: count, p: p, rng: &rng, mask: mask) }
    public static func argmaxRows(rows: Int, cols: Int, x: UnsafePointer<Double>, out: UnsafeMutablePointer<Int32>) { argmaxRowsImpl(rows: rows, cols: cols, x: x, out: out) }
    public static func gatherRows(from src: UnsafePointer<Float>, rowSize: Int, rows: UnsafePointer<Int>, count: Int, into dst: UnsafeMutablePointer<Double>) { gatherRowsImpl(from: src, rowSize: rowSize, rows: rows, count: count, into: dst) }
}
