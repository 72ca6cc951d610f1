import Foundation
import Runner

/// Benchmarks the fast convolution (im2col + `T.gemm`, `Float`) on the course shapes:
/// forward+backward (including `dx`) GFLOP/s at batch 50 and 500, and the speedup over the
/// direct reference loops (timed on a small batch and scaled per sample). Each timing is the
/// median call over at least `minSeconds` (and 3 calls) after one warm-up call; forward and
/// backward are timed separately. `threads`: the layers' thread budget (blocks of images
/// and pooling planes over that many threads). Returns printable lines.
public func benchmarkConv(minSeconds: Double, threads: Int = 1) -> [String] {
    let context = ComputeContext(productThreads: threads)
    struct Case { let name: String; let c, h, w, f, k, pad: Int }
    let cases = [
        Case(name: "3×32×32 → 32 7×7 pad 3", c: 3, h: 32, w: 32, f: 32, k: 7, pad: 3),
        Case(name: "3×32×32 → 64 3×3 pad 1", c: 3, h: 32, w: 32, f: 64, k: 3, pad: 1),
        Case(name: "32×16×16 → 64 3×3 pad 1", c: 32, h: 16, w: 16, f: 64, k: 3, pad: 1),
    ]
    var lines: [String] = []
    var rng = SeededGenerator(seed: 42)
    func fill(_ t: Tensor<Float>, _ scale: Double) { for i in 0..<t.count { t[i] = Float(scale * rng.normal()) } }
    func seconds(_ body: () -> Void) -> Double { medianSeconds(minSeconds: minSeconds, body) }
    for cs in cases {
        guard let layer = try? Conv2D<Float>(inputShape: [cs.c, cs.h, cs.w], filters: cs.f, height: cs.k, width: cs.k, stride: 1, pad: cs.pad,
                                           context: context)
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
            convForwardReference(g, n: refN, x: rx.data, weight: layer.weight.value.data, bias: layer.bias.value.data, y: ry.data)
            convBackwardReference(g, n: refN, x: rx.data, weight: layer.weight.value.data, dout: rdout.data, dx: rdx.data,
                                        dweight: rdw.data, dbias: rdb.data)
        }
        let refPerSample = ref / Double(refN)
        lines.append(String(format: "conv %@, reference loops: %.2f ms/sample, %.2f GFLOP/s",
                            cs.name, refPerSample * 1e3, flopsPerSample / refPerSample / 1e9))

        for n in [50, 500] {
            let (fwd, bwd) = timeConvLayer(layer, batch: n, minSeconds: minSeconds, &rng)
            let perSample = (fwd + bwd) / Double(n)
            let gf = flopsPerSample / perSample / 1e9
            let fwdGF = Double(g.forwardFlops * n) / fwd / 1e9
            let bwdGF = Double(2 * g.forwardFlops * n) / bwd / 1e9
            lines.append(String(format: "conv %@, batch %d: fwd+bwd %.1f ms, %.1f GFLOP/s (fwd %.1f, bwd %.1f), %.0f× the reference",
                                cs.name, n, (fwd + bwd) * 1e3, gf, fwdGF, bwdGF, refPerSample / perSample))
        }
    }
    // 2×2 stride-2 max pool after the 64-filter conv (batch 50): dedicated loop vs reference.
    if let pool = try? MaxPool<Float>(inputShape: [64, 32, 32], height: 2, width: 2, stride: 2, context: context) {
        let n = 50, g = pool.geometry
        let x = Tensor<Float>(shape: [n, 64, 32, 32]); fill(x, 1)
        let dout = Tensor<Float>(shape: [n, 64, 16, 16]); fill(dout, 1)
        let fast = seconds { _ = pool.forward(x, mode: .train); _ = pool.backward(dout) }
        let y = Tensor<Float>(shape: dout.shape), dx = Tensor<Float>(shape: x.shape)

        let ref = seconds {
            maxpoolForwardReference(g, planes: n * 64, x: x.data, y: y.data)
            maxpoolBackwardReference(g, planes: n * 64, x: x.data, dout: dout.data, dx: dx.data)
        }
        lines.append(String(format: "maxpool 2×2/2 on 64×32×32, batch %d: fwd+bwd %.2f ms (%.1f GB/s of input), %.0f× the reference",
                            n, fast * 1e3, Double(x.count * 4) / fast / 1e9, ref / fast))
    }
    return lines
}

private func now() -> Double { Double(DispatchTime.now().uptimeNanoseconds) / 1e9 }

/// Median seconds per call of `body` (robust to other processes sharing the cores) over at
/// least `minSeconds` and 3 calls, after one warm-up call (which sizes the layers' buffers).
func medianSeconds(minSeconds: Double, _ body: () -> Void) -> Double {
    body()
    var times: [Double] = []
    let start = now()
    repeat {
        let t = now(); body(); times.append(now() - t)
    } while now() - start < minSeconds || times.count < 3
    times.sort()
    return times[times.count / 2]
}

/// Median forward (train mode) and backward seconds of `layer` on a random batch of `batch`.
func timeConvLayer(_ layer: Conv2D<Float>, batch n: Int, minSeconds: Double, _ rng: inout SeededGenerator) -> (forward: Double, backward: Double) {
    let x = Tensor<Float>(shape: [n] + layer.inputShape), dout = Tensor<Float>(shape: [n] + layer.outputShape)
    for i in 0..<x.count { x[i] = Float(rng.normal()) }
    for i in 0..<dout.count { dout[i] = Float(rng.normal()) }
    let fwd = medianSeconds(minSeconds: minSeconds) { _ = layer.forward(x, mode: .train) }
    let bwd = medianSeconds(minSeconds: minSeconds) { _ = layer.backward(dout) }
    return (fwd, bwd)
}

/// One "same"-padded (stride 1) conv layer `C×H×W → F K×K` with input gradient, as in a
/// network's second layer: median forward and backward seconds at `batch` on `threads`
/// threads, and their sum; nil for an invalid shape. (The PyTorch peer times the same.)
public func benchmarkConvLayer(channels: Int, height: Int, width: Int, filters: Int, size: Int, batch: Int,
                               threads: Int, minSeconds: Double) -> (forward: Double, backward: Double, total: Double)? {
    guard let layer = try? Conv2D<Float>(inputShape: [channels, height, width], filters: filters, height: size, width: size,
                                         stride: 1, pad: (size - 1) / 2, context: ComputeContext(productThreads: threads))
    else { return nil }
    var rng = SeededGenerator(seed: 42)
    for i in 0..<layer.weight.value.count { layer.weight.value[i] = Float(1e-2 * rng.normal()) }
    let (f, b) = timeConvLayer(layer, batch: batch, minSeconds: minSeconds, &rng)
    return (f, b, f + b)
}
