import Synchronization

/// How many threads one matrix product may use. The scheduler raises it when fewer trials
/// than cores remain (e.g. a single trial, or the tail of a sweep), so idle cores help the
/// running trials; it never lets trials × threads exceed the job budget. Because
/// `gemmParallel` is bit-identical to `gemm`, this changes speed, never results.
public let productThreads = Atomic<Int>(1)

/// `C = op(A)·op(B)` as `T.gemm`, split over `productThreads` threads when the product is
/// large enough to pay for it (see `gemmParallel`).
@inline(__always)
public func matmul<T: Real>(transA: Bool, transB: Bool, m: Int, n: Int, k: Int,
                            a: UnsafePointer<T>, lda: Int, b: UnsafePointer<T>, ldb: Int,
                            c: UnsafeMutablePointer<T>, ldc: Int, accumulate: Bool) {
    let threads = productThreads.load(ordering: .relaxed)
    if threads > 1 {
        gemmParallel(transA: transA, transB: transB, m: m, n: n, k: k, a: a, lda: lda, b: b, ldb: ldb,
                     c: c, ldc: ldc, accumulate: accumulate, threads: threads)
    } else {
        T.gemm(transA: transA, transB: transB, m: m, n: n, k: k, a: a, lda: lda, b: b, ldb: ldb,
               c: c, ldc: ldc, accumulate: accumulate)
    }
}
