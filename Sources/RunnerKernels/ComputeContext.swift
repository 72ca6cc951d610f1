import Synchronization

/// What the kernels of a run may use, passed from the scheduler down to the layers (no
/// globals): the thread budget of one matrix product and a cancellation flag.
///
/// The scheduler raises the product threads when fewer trials than cores remain (e.g. a
/// single trial, or the tail of a sweep), so idle cores help the running trials; it never
/// lets trials × threads exceed the job budget. Because `gemmParallel` is bit-identical to
/// `gemm`, the budget changes speed, never results. Two runs in one process each have their
/// own context and do not interfere.
public final class ComputeContext: Sendable {
    private let threads: Atomic<Int>
    private let cancelled = Atomic<Bool>(false)

    public init(productThreads: Int = 1) { threads = Atomic(max(1, productThreads)) }

    /// Threads one matrix product may use (at least 1).
    public var productThreads: Int { threads.load(ordering: .relaxed) }
    public func setProductThreads(_ n: Int) { threads.store(max(1, n), ordering: .relaxed) }

    /// Set by `cancel()` (Ctrl-C): training loops poll it every iteration and stop.
    public var isCancelled: Bool { cancelled.load(ordering: .relaxed) }
    public func cancel() { cancelled.store(true, ordering: .relaxed) }
}

/// `C = op(A)·op(B)` as `T.gemm`, split over `threads` threads when the product is large
/// enough to pay for it (see `gemmParallel`).
@inline(__always)
public func matmul<T: Real>(transA: Bool, transB: Bool, m: Int, n: Int, k: Int,
                            a: UnsafePointer<T>, lda: Int, b: UnsafePointer<T>, ldb: Int,
                            c: UnsafeMutablePointer<T>, ldc: Int, accumulate: Bool, threads: Int) {
    if threads > 1 {
        gemmParallel(transA: transA, transB: transB, m: m, n: n, k: k, a: a, lda: lda, b: b, ldb: ldb,
                     c: c, ldc: ldc, accumulate: accumulate, threads: threads)
    } else {
        T.gemm(transA: transA, transB: transB, m: m, n: n, k: k, a: a, lda: lda, b: b, ldb: ldb,
               c: c, ldc: ldc, accumulate: accumulate)
    }
}
