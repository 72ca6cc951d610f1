/// Matrix multiply, the hot path of training.
///
/// `C (m×n) = op(A) · op(B)` (or `C += …` when `accumulate`), all row-major with leading
/// dimensions: `op(A)` is `m×k` (A stored `m×k`, or `k×m` when `transA`), `op(B)` is `k×n`
/// (B stored `k×n`, or `n×k` when `transB`). Cost: `2·m·n·k` flops.
public protocol GEMMKernels {
    static func gemm(transA: Bool, transB: Bool, m: Int, n: Int, k: Int,
                     a: UnsafePointer<Self>, lda: Int,
                     b: UnsafePointer<Self>, ldb: Int,
                     c: UnsafeMutablePointer<Self>, ldc: Int,
                     accumulate: Bool)
}

/// The plain triple loop, written for clarity: tests compare the fast kernels against it.
public func gemmReference<T: BinaryFloatingPoint>(
    transA: Bool, transB: Bool, m: Int, n: Int, k: Int,
    a: UnsafePointer<T>, lda: Int, b: UnsafePointer<T>, ldb: Int,
    c: UnsafeMutablePointer<T>, ldc: Int, accumulate: Bool
) {
    for i in 0..<m {
        for j in 0..<n {
            var s: T = 0
            for p in 0..<k {
                let av = transA ? a[p * lda + i] : a[i * lda + p]
                let bv = transB ? b[j * ldb + p] : b[p * ldb + j]
                s += av * bv
            }
            c[i * ldc + j] = accumulate ? c[i * ldc + j] + s : s
        }
    }
}

// Placeholder fast path (row-wise axpy order), replaced by the blocked SIMD kernel.
@inline(__always)
func gemmSimple<T: BinaryFloatingPoint>(
    transA: Bool, transB: Bool, m: Int, n: Int, k: Int,
    a: UnsafePointer<T>, lda: Int, b: UnsafePointer<T>, ldb: Int,
    c: UnsafeMutablePointer<T>, ldc: Int, accumulate: Bool
) {
    if transB {
        gemmReference(transA: transA, transB: transB, m: m, n: n, k: k, a: a, lda: lda, b: b, ldb: ldb, c: c, ldc: ldc, accumulate: accumulate)
        return
    }
    for i in 0..<m {
        let crow = c + i * ldc
        if !accumulate { crow.update(repeating: 0, count: n) }
        for p in 0..<k {
            let av = transA ? a[p * lda + i] : a[i * lda + p]
            let brow = b + p * ldb
            for j in 0..<n { crow[j] += av * brow[j] }
        }
    }
}

extension Float: GEMMKernels {
    public static func gemm(transA: Bool, transB: Bool, m: Int, n: Int, k: Int,
                            a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
                            c: UnsafeMutablePointer<Float>, ldc: Int, accumulate: Bool) {
        gemmSimple(transA: transA, transB: transB, m: m, n: n, k: k, a: a, lda: lda, b: b, ldb: ldb, c: c, ldc: ldc, accumulate: accumulate)
    }
}

extension Double: GEMMKernels {
    public static func gemm(transA: Bool, transB: Bool, m: Int, n: Int, k: Int,
                            a: UnsafePointer<Double>, lda: Int, b: UnsafePointer<Double>, ldb: Int,
                            c: UnsafeMutablePointer<Double>, ldc: Int, accumulate: Bool) {
        gemmSimple(transA: transA, transB: transB, m: m, n: n, k: k, a: a, lda: lda, b: b, ldb: ldb, c: c, ldc: ldc, accumulate: accumulate)
    }
}
