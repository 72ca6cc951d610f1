import Dispatch
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

/// Calls `body(t)` for every `t` in `0..<tasks`, on up to `tasks` threads at once
/// (`DispatchQueue.concurrentPerform`); inline when `tasks ≤ 1`. Returns when all are done.
/// `body` must write disjoint memory for different `t`: the kernels that use it split
/// their work so that each output element is computed by one task with the same sequence
/// of operations as on one thread, which keeps results bit-identical whatever `tasks`.
public func forEachTask(_ tasks: Int, _ body: (Int) -> Void) {
    if tasks <= 1 {
        if tasks == 1 { body(0) }
        return
    }
    withoutActuallyEscaping(body) { body in
        let box = TaskBody(body: body)
        DispatchQueue.concurrentPerform(iterations: tasks) { box.body($0) }
    }
}

/// The closure of `forEachTask`, carried into the worker threads (it captures raw pointers,
/// which are not `Sendable`; `forEachTask`'s contract makes the accesses disjoint).
private struct TaskBody: @unchecked Sendable { let body: (Int) -> Void }

/// Calls `body(worker, item)` for every `item` in `0..<items` on `workers` threads, each
/// worker taking the next item not yet taken (so a worker that the OS deschedules, when
/// other processes share the cores, holds up only the item it is on). `worker` (in
/// `0..<workers`) tells which per-worker scratch to use. Which worker runs an item never
/// changes what it computes, so results do not depend on the split.
public func forEachItem(_ items: Int, workers: Int, _ body: (_ worker: Int, _ item: Int) -> Void) {
    let workers = max(1, min(workers, items))
    if workers == 1 {
        for i in 0..<items { body(0, i) }
        return
    }
    let next = TaskCounter()
    forEachTask(workers) { t in
        while true {
            let i = next.value.wrappingAdd(1, ordering: .relaxed).oldValue
            if i >= items { break }
            body(t, i)
        }
    }
}

private final class TaskCounter: Sendable { let value = Atomic<Int>(0) }

/// `body(range)` over `count` elements cut into contiguous ranges (four per thread, taken
/// as in `forEachItem`), on up to `threads` threads; inline when one thread or fewer than
/// `minimum` elements per thread (a pass over a few thousand elements costs less than
/// waking a thread). For elementwise passes, where each element is computed alone, the
/// split cannot change any result.
public func forEachRange(_ count: Int, threads: Int, minimum: Int = 1 << 16, _ body: (Range<Int>) -> Void) {
    let parts = max(1, min(threads, count / max(minimum, 1)))
    if parts == 1 { body(0..<count); return }
    let pieces = 4 * parts, size = (count + pieces - 1) / pieces
    forEachItem(pieces, workers: parts) { _, i in
        let lo = i * size
        if lo < count { body(lo..<min(count, lo + size)) }
    }
}
