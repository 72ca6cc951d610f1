import Dispatch

/// Times `Float.gemm` (single-threaded) on each shape: the median over several repetitions
/// of the mean time per call, reported as GFLOP/s (`2·m·n·k` flops per call). Operands are
/// filled from a fixed seed; `minSeconds` bounds the measuring time per shape from below.
/// Labels read `MxNxK` plus `NN`/`TN`/`NT`/`TT` (transA, transB).
public func benchmarkGEMM(shapes: [(m: Int, n: Int, k: Int, transA: Bool, transB: Bool)],
                          minSeconds: Double) -> [(label: String, gflops: Double)] {
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
                            Float.gemm(transA: s.transA, transB: s.transB, m: s.m, n: s.n, k: s.k,
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

/// GFLOP/s of a tight loop of independent `SIMD16<Float>` fused multiply-adds (the best of
/// a few ~10 ms runs). Built with `-target-cpu native` on an AVX-512/AVX2 machine this is tens
/// of GFLOP/s or more; a build without CPU targeting splits every FMA into scalar library
/// calls and lands about two orders of magnitude lower.
public func simdSanityGFLOPS() -> Double {
    // Seeds from a runtime value so the loop cannot be folded away.
    let seed = Float(DispatchTime.now().uptimeNanoseconds & 7) * 1e-9
    let m = SIMD16<Float>(repeating: 0.999_999 + seed)
    let d = SIMD16<Float>(repeating: 1e-7)
    var best = 0.0
    var sink: Float = 0
    for _ in 0..<3 {
        var x0 = SIMD16<Float>(repeating: 1), x1 = x0 + 1, x2 = x0 + 2, x3 = x0 + 3
        var x4 = x0 + 4, x5 = x0 + 5, x6 = x0 + 6, x7 = x0 + 7
        var x8 = x0 + 8, x9 = x0 + 9, x10 = x0 + 10, x11 = x0 + 11
        let chunk = 20_000
        var iterations = 0
        let t0 = DispatchTime.now().uptimeNanoseconds
        var elapsed = 0.0
        repeat {
            for _ in 0..<chunk {
                x0 = x0.addingProduct(x0, d); x1 = x1.addingProduct(x1, d)
                x2 = x2.addingProduct(x2, d); x3 = x3.addingProduct(x3, d)
                x4 = x4.addingProduct(x4, d); x5 = x5.addingProduct(x5, d)
                x6 = x6.addingProduct(x6, d); x7 = x7.addingProduct(x7, d)
                x8 = x8.addingProduct(x8, d); x9 = x9.addingProduct(x9, d)
                x10 = x10.addingProduct(x10, d); x11 = x11.addingProduct(x11, d)
            }
            iterations += chunk
            x0 *= m
            elapsed = Double(DispatchTime.now().uptimeNanoseconds - t0) * 1e-9
        } while elapsed < 0.01
        let s = (x0 + x1 + x2 + x3) + (x4 + x5 + x6 + x7) + (x8 + x9 + x10 + x11)
        sink += s.sum()
        best = max(best, Double(iterations) * 12 * 16 * 2 / elapsed * 1e-9)
    }
    // Keep the result observable (never true in practice for these finite values).
    if sink.isNaN { print("", terminator: "") }
    return best
}
