import Foundation

/// Benchmarks the fast convolution (im2col + `T.gemm`, `Float`) on the course shapes:
/// forward+backward (including `dx`) GFLOP/s at batch 50 and 500, and the speedup over the
/// direct reference loops (timed on a small batch and scaled per sample). Each timing
/// repeats until `minSeconds` have passed (after one warm-up pass). Returns printable lines.
public func benchmarkConv(minSeconds: Double) -> [String] {
    struct Case { let name: String; let c, h, w, f, k, pad: Int }
    let cases = [
        Case(name: "3×32×32 → 32 7×7 pad 3", c: 3, h: 32, w: 32, f: 32, k: 7, pad: 3),
        Case(name: "3×32×32 → 64 3×3 pad 1", c: 3, h: 32, w: 32, f: 64, k: 3, pad: 1),
        Case(name: "32×16×16 → 64 3×3 pad 1", c: 32, h: 16, w: 16, f: 64, k: 3, pad: 1),
    ]
    var lines: [String] = []
    var rng = SeededGenerator(seed: 42)
    func fill(_ t: Tensor<Float>, _ scale: Double) { for i in 0..<t.count { t[i] = Float(scale * rng.normal()) } }
    func seconds(_ body: () -> Void) -> (perCall: Double, calls: Int) {
        body()   // warm-up (sizes the buffers)
        let start = DispatchTime.now().uptimeNanoseconds
        var calls = 0, elapsed = 0.0
        repeat {
            body(); calls += 1
            elapsed = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        } while elapsed < minSeconds
        return (elapsed / Double(calls), calls)
    }
    for cs in cases {
        guard let layer = try? Conv2D<Float>(inputShape: [cs.c, cs.h, cs.w], filters: cs.f, height: cs.k, width: cs.k, stride: 1, pad: cs.pad)
        else { lines.append("conv \(cs.name): invalid shape"); continue }
        fill(layer.weight.value, 1e-2)
        let g = layer.geometry
        let flopsPerSample = Double(3 * g.forwardFlops)

        // reference: direct loops on a small batch, scaled per sample
        let refN = 2
        let rx = Tensor<Float>(shape: [refN, cs.c, cs.h, cs.w]); fill(rx, 1)
        let ry = Tensor<Float>(shape: [refN] + layer.outputShape)
        let rdout = Tensor<Float>(shape: [refN] + layer.outputShape); fill(rdout, 1)
        let rdx = Tensor<Float>(shape: rx.shape), rdw = Tensor<Float>(shape: layer.weight.value.shape), rdb = Tensor<Float>(shape: [cs.f])
        let ref = seconds {
            Float.convForwardReference(g, n: refN, x: rx.data, weight: layer.weight.value.data, bias: layer.bias.value.data, y: ry.data)
            Float.convBackwardReference(g, n: refN, x: rx.data, weight: layer.weight.value.data, dout: rdout.data, dx: rdx.data,
                                        dweight: rdw.data, dbias: rdb.data)
        }
        let refPerSample = ref.perCall / Double(refN)
        lines.append(String(format: "conv %@, reference loops: %.2f ms/sample, %.2f GFLOP/s",
                            cs.name, refPerSample * 1e3, flopsPerSample / refPerSample / 1e9))

        for n in [50, 500] {
            let x = Tensor<Float>(shape: [n, cs.c, cs.h, cs.w]); fill(x, 1)
            let dout = Tensor<Float>(shape: [n] + layer.outputShape); fill(dout, 1)
            var fwdTime = 0.0, bwdTime = 0.0
            let total = seconds {
                let t0 = DispatchTime.now().uptimeNanoseconds
                _ = layer.forward(x, mode: .train)
                let t1 = DispatchTime.now().uptimeNanoseconds
                _ = layer.backward(dout)
                let t2 = DispatchTime.now().uptimeNanoseconds
                fwdTime += Double(t1 - t0) / 1e9; bwdTime += Double(t2 - t1) / 1e9
            }
            let perSample = total.perCall / Double(n)
            let calls = Double(total.calls + 1)
            let gf = flopsPerSample / perSample / 1e9
            let fwdGF = Double(g.forwardFlops * n) / (fwdTime / calls) / 1e9
            let bwdGF = Double(2 * g.forwardFlops * n) / (bwdTime / calls) / 1e9
            lines.append(String(format: "conv %@, batch %d: fwd+bwd %.1f ms, %.1f GFLOP/s (fwd %.1f, bwd %.1f), %.0f× the reference",
                                cs.name, n, total.perCall * 1e3, gf, fwdGF, bwdGF, refPerSample / perSample))
        }
    }
    return lines
}
