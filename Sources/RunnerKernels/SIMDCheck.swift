import Dispatch

/// The build-flag check (see Package.swift): without CPU targeting, SIMD code is about a
/// hundred times slower, and this number shows it.
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
