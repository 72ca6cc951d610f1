import Dispatch
import Runner

/// Times `Float.gemm` (single-threaded) on each shape: the median over several repetitions
/// of the mean time per call, reported as GFLOP/s (`2·m·n·k` flops per call). Operands are
/// filled from a fixed seed; `minSeconds` bounds the measuring time per shape from below.
/// Labels read `MxNxK` plus `NN`/`TN`/`NT`/`TT` (transA, transB). `tiling`: the register
/// tile to time instead of the target's (`GEMMTiling.forTarget`, what `Float.gemm` uses).
public func benchmarkGEMM(shapes: [(m: Int, n: Int, k: Int, transA: Bool, transB: Bool)],
                          minSeconds: Double, tiling: GEMMTiling? = nil) -> [(label: String, gflops: Double)] {
    var results: [(label: String, gflops: Double)] = []
    var rng = SeededGenerator(seed: 0x6E3A_17C5)
    for s in shapes {
        let label = "\(s.m)x\(s.n)x\(s.k) \(s.transA ? "T" : "N")\(s.transB ? "T" : "N")"
        // Stored shapes: A is m×k (k×m if transA), B is k×n (n×k if transB), tightly packed.
        let lda = s.transA ? s.m : s.k
        let ldb = s.transB ? s.k : s.n
        let a = (0..<max(1, s.m * s.k)).map { _ in Float(rng.uniform() * 2 - 1) }
        let b = (0..<max(1, s.k * s.n)).map { _ in Float(rng.uniform() * 2 - 1) }
        var c = [Float](repeating: 0, count: max(1, s.m * s.n))
        let flops = 2.0 * Double(s.m) * Double(s.n) * Double(s.k)
        if flops == 0 { results.append((label, 0)); continue }

        a.withUnsafeBufferPointer { ap in
            b.withUnsafeBufferPointer { bp in
                c.withUnsafeMutableBufferPointer { cp in
                    func run(_ iterations: Int) -> Double {
                        let t0 = DispatchTime.now().uptimeNanoseconds
                        for _ in 0..<iterations {
                            gemm(tiling: tiling ?? .forTarget, transA: s.transA, transB: s.transB, m: s.m, n: s.n, k: s.k,
                                       a: ap.baseAddress!, lda: max(1, lda),
                                       b: bp.baseAddress!, ldb: max(1, ldb),
                                       c: cp.baseAddress!, ldc: s.n, accumulate: false)
                        }
                        return Double(DispatchTime.now().uptimeNanoseconds - t0) * 1e-9
                    }
                    // Warm up (workspace, caches, clocks) and calibrate so that one repetition
                    // lasts about a tenth of the budget (at least ~2 ms).
                    var iterations = 1
                    var t = run(1)
                    let target = max(minSeconds / 10, 0.002)
                    while t < target {
                        let scale = min(10, max(2, 1.2 * target / max(t, 1e-9)))
                        iterations = Int((Double(iterations) * scale).rounded(.up))
                        t = run(iterations)
                    }
                    var times: [Double] = []
                    let start = DispatchTime.now().uptimeNanoseconds
                    repeat {
                        times.append(run(iterations) / Double(iterations))
                    } while times.count < 5
                        || Double(DispatchTime.now().uptimeNanoseconds - start) * 1e-9 < minSeconds
                    times.sort()
                    let median = times.count % 2 == 1
                        ? times[times.count / 2]
                        : (times[times.count / 2 - 1] + times[times.count / 2]) / 2
                    results.append((label, flops / median * 1e-9))
                }
            }
        }
    }
    return results
}
