import Foundation
import XCTest
import RunnerNetworks
import RunnerBench

// Convolution, max pooling and spatial batchnorm (SPEC §2–3):
// - the fast kernels (im2col + GEMM conv, specialised 2×2 pooling) against the direct
//   reference loops on random inputs: odd sizes, stride 2, padding 0/1/2, non-square
//   kernels, pointwise 1×1, every im2col block size;
// - first-maximum routing and overlap accumulation of the max-pool gradient;
// - centered-difference gradient checks in Double for conv, maxpool and spatial batchnorm
//   (course `rel_error`), and for the whole three-layer convnet;
// - shape errors for configs whose output size is not an integer.

// MARK: - helpers (prefixed `conv` to stay clear of other test files' helpers)

private func convRandom<T: Real>(_ shape: [Int], _ rng: inout SeededGenerator, scale: Double = 1) -> Tensor<T> {
    let t = Tensor<T>(shape: shape)
    for i in 0..<t.count { t[i] = T(scale * rng.normal()) }
    return t
}

/// `max|a − b| / max|b|`: a scale-aware comparison for fast-vs-reference results.
private func convScaledError<T: Real>(_ a: Tensor<T>, _ b: Tensor<T>) -> Double {
    precondition(a.count == b.count, "sizes differ: \(a.shape) vs \(b.shape)")
    var diff = 0.0, mag = 1e-300
    for i in 0..<a.count {
        diff = max(diff, abs(Double(a[i]) - Double(b[i])))
        mag = max(mag, abs(Double(b[i])))
    }
    return diff / mag
}

private func convDot(_ a: Tensor<Double>, _ b: Tensor<Double>) -> Double {
    var s = 0.0
    for i in 0..<a.count { s += a[i] * b[i] }
    return s
}

/// (N, C, H, W, F, HH, WW, stride, pad)
private let convCases: [(Int, Int, Int, Int, Int, Int, Int, Int, Int)] = [
    (2, 3, 5, 5, 2, 3, 3, 1, 1),
    (3, 2, 7, 9, 4, 3, 5, 1, 2),    // non-square kernel, pad 2, odd sizes
    (2, 3, 7, 7, 3, 3, 3, 2, 1),    // stride 2
    (2, 1, 9, 7, 2, 3, 5, 2, 0),    // stride 2, pad 0, non-square
    (1, 4, 6, 8, 3, 2, 2, 2, 0),
    (4, 3, 5, 7, 5, 1, 1, 1, 0),    // pointwise (no im2col)
    (2, 2, 4, 4, 3, 5, 5, 1, 2),    // kernel larger than the unpadded input
    (3, 5, 11, 13, 6, 3, 5, 2, 2),
    (5, 3, 1, 1, 2, 3, 3, 1, 1),    // 1×1 image, everything but the centre is padding
]

private func convGeometry(_ c: (Int, Int, Int, Int, Int, Int, Int, Int, Int)) -> ConvGeometry {
    ConvGeometry(channels: c.1, height: c.2, width: c.3, filters: c.4, kernelHeight: c.5, kernelWidth: c.6, stride: c.7, pad: c.8)
}

final class ConvTests: XCTestCase {

    // MARK: fast vs reference

    private func checkFastConv<T: Real>(_ type: T.Type, tolerance: Double) {
        var rng = SeededGenerator(seed: 11)
        for cs in convCases {
            let g = convGeometry(cs)
            let n = cs.0
            let x: Tensor<T> = convRandom([n, g.channels, g.height, g.width], &rng)
            let w: Tensor<T> = convRandom([g.filters, g.channels, g.kernelHeight, g.kernelWidth], &rng)
            let b: Tensor<T> = convRandom([g.filters], &rng)
            let dout: Tensor<T> = convRandom([n, g.filters, g.outHeight, g.outWidth], &rng)
            let yRef = Tensor<T>(shape: dout.shape), dxRef = Tensor<T>(shape: x.shape)
            let dwRef = Tensor<T>(shape: w.shape), dbRef = Tensor<T>(shape: b.shape)
            convForwardReference(g, n: n, x: x.data, weight: w.data, bias: b.data, y: yRef.data)
            convBackwardReference(g, n: n, x: x.data, weight: w.data, dout: dout.data, dx: dxRef.data, dweight: dwRef.data, dbias: dbRef.data)
            for chunk in Set([1, 2, n, g.chunk(batch: n)]) {
                let cols = Tensor<T>(shape: [g.colsCount(chunk: chunk)]), dcols = Tensor<T>(shape: [g.colsCount(chunk: chunk)])
                let tmp = Tensor<T>(shape: [max(1, g.tmpCount(chunk: chunk))])
                let y = Tensor<T>(shape: dout.shape), dx = Tensor<T>(shape: x.shape)
                let dw = Tensor<T>(shape: w.shape), db = Tensor<T>(shape: b.shape)
                dx.fill(99); dw.fill(99); db.fill(99)   // must be overwritten
                convForward(g, n: n, chunk: chunk, x: x.data, weight: w.data, bias: b.data, cols: cols.data, tmp: tmp.data, y: y.data)
                convBackward(g, n: n, chunk: chunk, x: x.data, weight: w.data, dout: dout.data, cols: cols.data, tmp: tmp.data,
                               dcols: dcols.data, dx: dx.data, dweight: dw.data, dbias: db.data)
                let what = "\(T.dtypeName) case \(cs) chunk \(chunk)"
                XCTAssertLessThan(convScaledError(y, yRef), tolerance, "forward \(what)")
                XCTAssertLessThan(convScaledError(dx, dxRef), tolerance, "dx \(what)")
                XCTAssertLessThan(convScaledError(dw, dwRef), tolerance, "dW \(what)")
                XCTAssertLessThan(convScaledError(db, dbRef), tolerance, "db \(what)")
                // without dx: parameter gradients unchanged, dx untouched
                dw.fill(99); db.fill(99)
                convBackward(g, n: n, chunk: chunk, x: x.data, weight: w.data, dout: dout.data, cols: cols.data, tmp: tmp.data,
                               dcols: nil, dx: nil, dweight: dw.data, dbias: db.data)
                XCTAssertLessThan(convScaledError(dw, dwRef), tolerance, "dW without dx \(what)")
                XCTAssertLessThan(convScaledError(db, dbRef), tolerance, "db without dx \(what)")
            }
        }
    }

    func testFastConvMatchesReferenceDouble() { checkFastConv(Double.self, tolerance: 1e-12) }
    func testFastConvMatchesReferenceFloat() { checkFastConv(Float.self, tolerance: 1e-5) }

    /// (N, C, H, W, F, HH, WW, stride, pad) for the threaded kernels: 32×32 maps (one image
    /// per block, several depth blocks per image), 8×8 maps (16 images per block, a ragged
    /// last block), pointwise with and without multi-image blocks, stride 2, and batches
    /// smaller than the thread count.
    private static let threadedCases: [(Int, Int, Int, Int, Int, Int, Int, Int, Int)] = [
        (5, 3, 32, 32, 8, 3, 3, 1, 1),
        (37, 4, 8, 8, 6, 3, 3, 1, 1),
        (3, 2, 9, 11, 5, 5, 3, 2, 2),
        (4, 6, 32, 32, 5, 1, 1, 1, 0),
        (21, 6, 6, 6, 5, 1, 1, 1, 0),
        (1, 3, 7, 7, 4, 3, 3, 1, 1),
    ]

    /// The exact values as bit patterns (Float → Double is exact, so equal patterns are equal bytes).
    private func bits<T: Real>(_ t: Tensor<T>) -> [UInt64] { t.array.map { Double($0).bitPattern } }

    /// The threaded kernels against the one-thread kernels, byte for byte: outputs, input
    /// gradients and the batch sums (dW, db), for 1, 2 and 3 threads, with the patch matrices
    /// kept from the forward and rebuilt, and with and without dx.
    private func checkThreadedConv<T: Real>(_: T.Type) {
        var rng = SeededGenerator(seed: 21)
        for cs in ConvTests.threadedCases {
            let g = convGeometry(cs), n = cs.0
            let x: Tensor<T> = convRandom([n, g.channels, g.height, g.width], &rng)
            let w: Tensor<T> = convRandom([g.filters, g.channels, g.kernelHeight, g.kernelWidth], &rng)
            let b: Tensor<T> = convRandom([g.filters], &rng)
            let dout: Tensor<T> = convRandom([n, g.filters, g.outHeight, g.outWidth], &rng)
            let chunk = g.chunk(batch: n)
            let cols = Tensor<T>(shape: [g.colsCount(chunk: chunk)]), dcols = Tensor<T>(shape: [g.colsCount(chunk: chunk)])
            let tmp = Tensor<T>(shape: [max(1, g.tmpCount(chunk: chunk))])
            let y1 = Tensor<T>(shape: dout.shape), dx1 = Tensor<T>(shape: x.shape)
            let dw1 = Tensor<T>(shape: w.shape), db1 = Tensor<T>(shape: b.shape)
            convForward(g, n: n, chunk: chunk, x: x.data, weight: w.data, bias: b.data, cols: cols.data, tmp: tmp.data, y: y1.data)
            convBackward(g, n: n, chunk: chunk, x: x.data, weight: w.data, dout: dout.data, cols: cols.data, tmp: tmp.data,
                         dcols: dcols.data, dx: dx1.data, dweight: dw1.data, dbias: db1.data)
            for threads in [1, 2, 3] {
                for keep in [false, true] {
                    let scratch = ConvScratch<T>()
                    let y = Tensor<T>(shape: dout.shape), dx = Tensor<T>(shape: x.shape)
                    let dw = Tensor<T>(shape: w.shape), db = Tensor<T>(shape: b.shape)
                    y.fill(99); dx.fill(99); dw.fill(99); db.fill(99)
                    convForward(g, n: n, x: x.data, weight: w.data, bias: b.data, y: y.data, scratch: scratch, threads: threads, keep: keep)
                    convBackward(g, n: n, x: x.data, weight: w.data, dout: dout.data, dx: dx.data, dweight: dw.data, dbias: db.data,
                                 scratch: scratch, threads: threads)
                    let what = "\(T.dtypeName) case \(cs) threads \(threads) keep \(keep)"
                    XCTAssertEqual(bits(y), bits(y1), "y \(what)")
                    XCTAssertEqual(bits(dx), bits(dx1), "dx \(what)")
                    XCTAssertEqual(bits(dw), bits(dw1), "dW \(what)")
                    XCTAssertEqual(bits(db), bits(db1), "db \(what)")
                    dw.fill(99); db.fill(99)
                    convBackward(g, n: n, x: x.data, weight: w.data, dout: dout.data, dx: nil, dweight: dw.data, dbias: db.data,
                                 scratch: scratch, threads: threads)
                    XCTAssertEqual(bits(dw), bits(dw1), "dW without dx \(what)")
                    XCTAssertEqual(bits(db), bits(db1), "db without dx \(what)")
                }
            }
        }
    }

    func testThreadedConvIsBitIdenticalToOneThreadFloat() { checkThreadedConv(Float.self) }
    func testThreadedConvIsBitIdenticalToOneThreadDouble() { checkThreadedConv(Double.self) }

    /// A kept patch matrix is used only by the backward of the forward that built it: after a
    /// test-mode forward on other data, the backward rebuilds the patches of its own input.
    func testKeptPatchesFollowTheLastForward() throws {
        var rng = SeededGenerator(seed: 8)
        let layer = try Conv2D<Float>(inputShape: [3, 8, 8], filters: 4, height: 3, width: 3, stride: 1, pad: 1,
                                      context: ComputeContext(productThreads: 2))
        for i in 0..<layer.weight.value.count { layer.weight.value[i] = Float(rng.normal()) }
        let g = layer.geometry
        let a: Tensor<Float> = convRandom([6, 3, 8, 8], &rng), other: Tensor<Float> = convRandom([6, 3, 8, 8], &rng)
        let dout: Tensor<Float> = convRandom([6, 4, 8, 8], &rng)
        let dwRef = Tensor<Float>(shape: layer.weight.value.shape), dbRef = Tensor<Float>(shape: [4]), dxRef = Tensor<Float>(shape: a.shape)
        convBackwardReference(g, n: 6, x: other.data, weight: layer.weight.value.data, dout: dout.data, dx: dxRef.data,
                              dweight: dwRef.data, dbias: dbRef.data)
        _ = layer.forward(a, mode: .train)
        _ = layer.forward(other, mode: .test)
        _ = try XCTUnwrap(layer.backward(dout))
        XCTAssertLessThan(convScaledError(layer.weight.grad, dwRef), 1e-5)
    }

    /// Conv and max-pool layers with a thread budget of 2 give the bytes of a budget of 1.
    func testLayersWithTwoThreadsMatchOneThread() throws {
        var rng = SeededGenerator(seed: 4)
        func layers(_ threads: Int) throws -> (Conv2D<Float>, MaxPool<Float>, ReLU<Float>) {
            let c = ComputeContext(productThreads: threads)
            return (try Conv2D<Float>(inputShape: [3, 32, 32], filters: 16, height: 3, width: 3, stride: 1, pad: 1, context: c),
                    try MaxPool<Float>(inputShape: [16, 32, 32], height: 2, width: 2, stride: 2, context: c),
                    ReLU<Float>(inputShape: [16, 32, 32], context: c))
        }
        let one = try layers(1), two = try layers(2)
        for i in 0..<one.0.weight.value.count { let v = Float(rng.normal()); one.0.weight.value[i] = v; two.0.weight.value[i] = v }
        for n in [50, 7] {
            let x: Tensor<Float> = convRandom([n, 3, 32, 32], &rng)
            let dout: Tensor<Float> = convRandom([n, 16, 16, 16], &rng)
            func run(_ l: (Conv2D<Float>, MaxPool<Float>, ReLU<Float>)) throws -> [[UInt64]] {
                let y = l.1.forward(l.2.forward(l.0.forward(x, mode: .train), mode: .train), mode: .train)
                let dx = try XCTUnwrap(l.0.backward(try XCTUnwrap(l.2.backward(try XCTUnwrap(l.1.backward(dout))))))
                return [bits(y), bits(dx), bits(l.0.weight.grad), bits(l.0.bias.grad)]
            }
            XCTAssertEqual(try run(one), try run(two), "batch \(n)")
        }
    }

    func testIm2colCol2imAreAdjoint() {
        // <im2col(x), c> = <x, col2im(c)> for random x and c: col2im is the exact transpose.
        var rng = SeededGenerator(seed: 5)
        for cs in convCases {
            let g = convGeometry(cs)
            let x: Tensor<Double> = convRandom([g.channels, g.height, g.width], &rng)
            let c: Tensor<Double> = convRandom([g.colsCount(chunk: 1)], &rng)
            let cols = Tensor<Double>(shape: c.shape), back = Tensor<Double>(shape: x.shape)
            convIm2col(g, x: x.data, cols: cols.data, ld: g.positions, col0: 0)
            convCol2im(g, cols: c.data, ld: g.positions, col0: 0, dx: back.data)
            XCTAssertEqual(convDot(cols, c), convDot(x, back), accuracy: 1e-9 * max(1, abs(convDot(cols, c))), "case \(cs)")
        }
    }

    func testConvLayerMatchesReferenceAcrossBatchSizes() throws {
        // The layer reuses its buffers: batches of different sizes (including one larger than
        // the im2col block) must all give the reference result.
        var rng = SeededGenerator(seed: 3)
        let layer = try Conv2D<Float>(inputShape: [3, 6, 5], filters: 4, height: 3, width: 3, stride: 1, pad: 1)
        for i in 0..<layer.weight.value.count { layer.weight.value[i] = Float(rng.normal()) }
        for i in 0..<4 { layer.bias.value[i] = Float(rng.normal()) }
        let g = layer.geometry
        XCTAssertEqual(layer.outputShape, [4, 6, 5])
        for n in [5, 2, 70, 1, 33] {
            let x: Tensor<Float> = convRandom([n, 3, 6, 5], &rng)
            let dout: Tensor<Float> = convRandom([n, 4, 6, 5], &rng)
            let yRef = Tensor<Float>(shape: dout.shape), dxRef = Tensor<Float>(shape: x.shape)
            let dwRef = Tensor<Float>(shape: layer.weight.value.shape), dbRef = Tensor<Float>(shape: [4])
            convForwardReference(g, n: n, x: x.data, weight: layer.weight.value.data, bias: layer.bias.value.data, y: yRef.data)
            convBackwardReference(g, n: n, x: x.data, weight: layer.weight.value.data, dout: dout.data, dx: dxRef.data,
                                        dweight: dwRef.data, dbias: dbRef.data)
            let y = layer.forward(x, mode: .train)
            XCTAssertEqual(y.shape, [n, 4, 6, 5])
            XCTAssertLessThan(convScaledError(y, yRef), 1e-5, "forward batch \(n)")
            let dx = try XCTUnwrap(layer.backward(dout))
            XCTAssertEqual(dx.shape, x.shape)
            XCTAssertLessThan(convScaledError(dx, dxRef), 1e-5, "dx batch \(n)")
            XCTAssertLessThan(convScaledError(layer.weight.grad, dwRef), 1e-5, "dW batch \(n)")
            XCTAssertLessThan(convScaledError(layer.bias.grad, dbRef), 1e-5, "db batch \(n)")
        }
        layer.needsInputGradient = false
        let x: Tensor<Float> = convRandom([4, 3, 6, 5], &rng)
        _ = layer.forward(x, mode: .train)
        XCTAssertNil(layer.backward(convRandom([4, 4, 6, 5], &rng)))
        XCTAssertEqual(layer.fanIn, 27)
        XCTAssertEqual(layer.flopsPerSample, 2 * 2 * 4 * 27 * 30)
        layer.needsInputGradient = true
        XCTAssertEqual(layer.flopsPerSample, 3 * 2 * 4 * 27 * 30)
    }

    func testMaxPoolFastMatchesReference() {
        // (planes, H, W, ph, pw, stride); the 2×2/2 cases take the dedicated loop.
        let cases = [(6, 8, 6, 2, 2, 2), (4, 32, 32, 2, 2, 2), (3, 7, 9, 3, 3, 2), (2, 5, 5, 2, 2, 1),
                     (3, 6, 7, 3, 2, 1), (2, 9, 9, 3, 3, 3), (1, 4, 4, 4, 4, 1), (2, 2, 2, 2, 2, 2)]
        var rng = SeededGenerator(seed: 21)
        for (planes, h, w, ph, pw, s) in cases {
            let g = PoolGeometry(height: h, width: w, poolHeight: ph, poolWidth: pw, stride: s)
            for ties in [false, true] {
                let x = Tensor<Double>(shape: [planes, h, w])
                // with ties: few distinct values, so windows often hold several maxima
                for i in 0..<x.count { x[i] = ties ? Double(rng.int(below: 3)) - 1 : rng.normal() }
                let dout: Tensor<Double> = convRandom([planes, g.outHeight, g.outWidth], &rng)
                let y = Tensor<Double>(shape: dout.shape), yRef = Tensor<Double>(shape: dout.shape)
                let dx = Tensor<Double>(shape: x.shape), dxRef = Tensor<Double>(shape: x.shape)
                dx.fill(7)
                maxpoolForward(g, planes: planes, x: x.data, y: y.data)
                maxpoolForwardReference(g, planes: planes, x: x.data, y: yRef.data)
                maxpoolBackward(g, planes: planes, x: x.data, dout: dout.data, dx: dx.data)
                maxpoolBackwardReference(g, planes: planes, x: x.data, dout: dout.data, dx: dxRef.data)
                XCTAssertEqual(y.array, yRef.array, "forward \((planes, h, w, ph, pw, s)) ties \(ties)")
                XCTAssertEqual(dx.array, dxRef.array, "backward \((planes, h, w, ph, pw, s)) ties \(ties)")
            }
        }
    }

    func testMaxPoolRoutesToFirstMaximumAndAccumulatesOverlaps() throws {
        // 2×2 stride 2, one window [1 3; 3 2]: the gradient goes to the first 3 (row-major).
        for fast in [true, false] {
            let g = PoolGeometry(height: 2, width: 2, poolHeight: 2, poolWidth: 2, stride: 2)
            let x = Tensor<Double>(shape: [1, 2, 2], values: [1, 3, 3, 2])
            let d = Tensor<Double>(shape: [1, 1, 1], values: [5])
            let dx = Tensor<Double>(shape: [1, 2, 2])
            if fast { maxpoolBackward(g, planes: 1, x: x.data, dout: d.data, dx: dx.data) }
            else { maxpoolBackwardReference(g, planes: 1, x: x.data, dout: d.data, dx: dx.data) }
            XCTAssertEqual(dx.array, [0, 5, 0, 0])
        }
        // Overlapping 1×2 windows, stride 1 on [1 5 2 5 5]: windows pick 5, 5, 5 (first), 5.
        let pool = try MaxPool<Double>(inputShape: [1, 1, 5], height: 1, width: 2, stride: 1)
        let x = Tensor<Double>(shape: [1, 1, 1, 5], values: [1, 5, 2, 5, 5])
        let y = pool.forward(x, mode: .train)
        XCTAssertEqual(y.array, [5, 5, 5, 5])
        let dx = try XCTUnwrap(pool.backward(Tensor<Double>(shape: [1, 1, 1, 4], values: [1, 10, 100, 1000])))
        XCTAssertEqual(dx.array, [0, 11, 0, 1100, 0])
        pool.needsInputGradient = false
        XCTAssertNil(pool.backward(Tensor<Double>(shape: [1, 1, 1, 4])))
    }

    // MARK: numerical gradient checks (Double)

    func testConvGradientCheck() throws {
        var rng = SeededGenerator(seed: 7)
        var worst = (x: 0.0, w: 0.0, b: 0.0)
        for cs in convCases {
            let layer = try Conv2D<Double>(inputShape: [cs.1, cs.2, cs.3], filters: cs.4, height: cs.5, width: cs.6, stride: cs.7, pad: cs.8)
            for i in 0..<layer.weight.value.count { layer.weight.value[i] = rng.normal() }
            for i in 0..<layer.bias.value.count { layer.bias.value[i] = rng.normal() }
            let x: Tensor<Double> = convRandom([cs.0, cs.1, cs.2, cs.3], &rng)
            let dout: Tensor<Double> = convRandom([cs.0] + layer.outputShape, &rng)
            _ = layer.forward(x, mode: .train)
            let dx = try XCTUnwrap(layer.backward(dout)).array
            let dw = layer.weight.grad.array, db = layer.bias.grad.array
            // f is linear in each of x, W and b separately, so the centered difference has no
            // truncation error at any step; h = 1e-3 (rather than 1e-5) only shrinks the
            // round-off, which on the larger cases approaches 1e-7 for near-zero entries.
            let f = { convDot(layer.forward(x, mode: .train), dout) }
            let ex = relativeError(dx, numericalGradient(of: f, wrt: x, h: 1e-3))
            let ew = relativeError(dw, numericalGradient(of: f, wrt: layer.weight.value, h: 1e-3))
            let eb = relativeError(db, numericalGradient(of: f, wrt: layer.bias.value, h: 1e-3))
            XCTAssertLessThanOrEqual(ex, 1e-7, "dx \(cs)")
            XCTAssertLessThanOrEqual(ew, 1e-7, "dW \(cs)")
            XCTAssertLessThanOrEqual(eb, 1e-7, "db \(cs)")
            worst = (max(worst.x, ex), max(worst.w, ew), max(worst.b, eb))
        }
        print("[gradcheck] conv worst rel error: dx \(worst.x), dW \(worst.w), db \(worst.b)")
    }

    func testMaxPoolGradientCheck() throws {
        var rng = SeededGenerator(seed: 8)
        var worst = 0.0
        for (shape, ph, pw, s) in [([3, 8, 6], 2, 2, 2), ([2, 7, 9], 3, 3, 2), ([2, 5, 6], 2, 3, 1)] {
            let pool = try MaxPool<Double>(inputShape: shape, height: ph, width: pw, stride: s)
            let x: Tensor<Double> = convRandom([2] + shape, &rng)
            let dout: Tensor<Double> = convRandom([2] + pool.outputShape, &rng)
            _ = pool.forward(x, mode: .train)
            let dx = try XCTUnwrap(pool.backward(dout)).array
            let e = relativeError(dx, numericalGradient(of: { convDot(pool.forward(x, mode: .train), dout) }, wrt: x))
            XCTAssertLessThanOrEqual(e, 1e-7, "maxpool \(shape) \(ph)×\(pw)/\(s)")
            worst = max(worst, e)
        }
        print("[gradcheck] maxpool worst rel error: dx \(worst)")
    }

    func testSpatialBatchnormGradientCheck() throws {
        var rng = SeededGenerator(seed: 9)
        var worst = (x: 0.0, g: 0.0, b: 0.0)
        for shape in [[3, 4, 5], [2, 3, 3], [4, 1, 1]] {
            let bn = try BatchNorm<Double>(inputShape: shape, spatial: true)
            for i in 0..<shape[0] { bn.gamma.value[i] = 1 + 0.5 * rng.normal(); bn.beta.value[i] = rng.normal() }
            let n = shape[1] * shape[2] == 1 ? 6 : 3
            let x: Tensor<Double> = convRandom([n] + shape, &rng, scale: 2)
            for i in 0..<x.count { x[i] += 3 }
            let dout: Tensor<Double> = convRandom([n] + shape, &rng)
            _ = bn.forward(x, mode: .train)
            let dx = try XCTUnwrap(bn.backward(dout)).array
            let dg = bn.gamma.grad.array, dbeta = bn.beta.grad.array
            let f = { convDot(bn.forward(x, mode: .train), dout) }
            let ex = relativeError(dx, numericalGradient(of: f, wrt: x))
            let eg = relativeError(dg, numericalGradient(of: f, wrt: bn.gamma.value))
            let eb = relativeError(dbeta, numericalGradient(of: f, wrt: bn.beta.value))
            XCTAssertLessThanOrEqual(ex, 1e-6, "spatial batchnorm dx \(shape)")
            XCTAssertLessThanOrEqual(eg, 1e-6, "spatial batchnorm dgamma \(shape)")
            XCTAssertLessThanOrEqual(eb, 1e-6, "spatial batchnorm dbeta \(shape)")
            worst = (max(worst.x, ex), max(worst.g, eg), max(worst.b, eb))
        }
        print("[gradcheck] spatial batchnorm worst rel error: dx \(worst.x), dgamma \(worst.g), dbeta \(worst.b)")
    }

    func testThreeLayerConvnetGradientCheck() throws {
        // The course's check: ≤ 1e-2 on the conv weights (relu/max-pool kinks and tiny
        // gradients at weight scale 1e-2), ≤ 1e-5 on every other parameter, over several seeds.
        // Inputs have a pixel-like spread (std 50; mean-subtracted CIFAR pixels have std ≈ 60):
        // the hidden activations, hence the dW2/dW3 entries, scale with the input while the
        // centered difference's round-off (≈ 1e-11 absolute, h = 1e-5) does not, and the odds of
        // a step crossing a relu/max-pool kink are scale-invariant. With std 1 some entries of
        // dW2/dW3 are ~1e-7 and their course rel_error reaches 2e-5 from round-off alone.
        // Likewise a tiny reg (1e-3) makes the gradient of a dead hidden unit's weights
        // reg·W ≈ 1e-7 and fails the same way, so reg is either 0 (those entries are exactly
        // 0 on both sides) or ≥ 0.05.
        var worst = (conv: 0.0, other: 0.0)
        for (seed, reg) in [(UInt64(1), 0.0), (UInt64(2), 0.05), (UInt64(3), 0.0), (UInt64(4), 0.1), (UInt64(5), 0.0), (UInt64(6), 0.5)] {
            let specs = threeLayerConvnetSpecs(numFilters: 3, filterSize: 3, hiddenDim: 7, numClasses: 4)
            let net = try Network<Double>(inputShape: [3, 8, 8], specs: specs, reg: reg, initialization: .scale(1e-2), seed: seed)
            let conv = try XCTUnwrap(net.layers.first as? Conv2D<Double>)
            var rng = SeededGenerator(seed: 100 + seed)
            let x: Tensor<Double> = convRandom([2, 3, 8, 8], &rng, scale: 50)
            let labels: [Int32] = [1, 3]
            try labels.withUnsafeBufferPointer { lp in
                let lab = try XCTUnwrap(lp.baseAddress)
                _ = net.lossAndGradients(x, labels: lab)
                let analytic = net.parameters.map { $0.grad.array }
                for (k, p) in net.parameters.enumerated() {
                    let numeric = numericalGradient(of: { Double(net.lossValue(x, labels: lab)) }, wrt: p.value)
                    let e = relativeError(analytic[k], numeric)
                    let limit = p === conv.weight ? 1e-2 : 1e-5
                    XCTAssertLessThanOrEqual(e, limit, "seed \(seed) reg \(reg) param \(k) \(p.name) \(p.value.shape)")
                    if p === conv.weight { worst.conv = max(worst.conv, e) } else { worst.other = max(worst.other, e) }
                }
            }
        }
        print("[gradcheck] three-layer convnet worst rel error: conv W \(worst.conv), other parameters \(worst.other)")
    }

    // MARK: shape errors

    func testNonIntegerOutputSizeIsRejected() {
        XCTAssertThrowsError(try Conv2D<Float>(inputShape: [3, 32, 32], filters: 8, height: 4, width: 4, stride: 3, pad: 0)) { e in
            let m = (e as? ShapeError)?.message ?? ""
            XCTAssertTrue(m.contains("[3, 32, 32]") && m.contains("[8, 3, 4, 4]"), m)
            XCTAssertTrue(m.contains("not an integer"), m)
        }
        // width only: 5×3 filter, stride 2 on 9×8
        XCTAssertThrowsError(try Conv2D<Float>(inputShape: [1, 9, 8], filters: 2, height: 5, width: 3, stride: 2, pad: 0)) { e in
            let m = (e as? ShapeError)?.message ?? ""
            XCTAssertTrue(m.contains("width") && m.contains("[1, 9, 8]") && m.contains("[2, 1, 5, 3]"), m)
        }
        XCTAssertThrowsError(try Conv2D<Float>(inputShape: [3, 4, 4], filters: 2, height: 7, width: 7, stride: 1, pad: 1)) { e in
            XCTAssertTrue(((e as? ShapeError)?.message ?? "").contains("larger"), "\(e)")
        }
        XCTAssertThrowsError(try Conv2D<Float>(inputShape: [3072], filters: 2, height: 3, width: 3, stride: 1, pad: 1))
        XCTAssertThrowsError(try Conv2D<Float>(inputShape: [3, 8, 8], filters: 2, height: 3, width: 3, stride: 0, pad: 1))
        XCTAssertThrowsError(try MaxPool<Float>(inputShape: [3, 7, 7], height: 2, width: 2, stride: 2)) { e in
            let m = (e as? ShapeError)?.message ?? ""
            XCTAssertTrue(m.contains("[3, 7, 7]") && m.contains("not an integer"), m)
        }
        XCTAssertThrowsError(try MaxPool<Float>(inputShape: [10], height: 2, width: 2, stride: 2))
        // Through a network: the error names the layer.
        XCTAssertThrowsError(try Network<Float>(inputShape: [3, 32, 32],
                                                specs: [.conv(filters: 4, height: 4, width: 4, stride: 3, pad: 0), .relu, .affine(outputs: 10)])) { e in
            let m = (e as? ShapeError)?.message ?? ""
            XCTAssertTrue(m.contains("layer 1") && m.contains("conv") && m.contains("[3, 32, 32]"), m)
        }
        // Valid geometries are accepted and give the documented output shapes.
        XCTAssertEqual(try Conv2D<Float>(inputShape: [3, 32, 32], filters: 32, height: 7, width: 7, stride: 1, pad: 3).outputShape, [32, 32, 32])
        XCTAssertEqual(try Conv2D<Float>(inputShape: [3, 7, 9], filters: 4, height: 3, width: 5, stride: 2, pad: 1).outputShape, [4, 4, 4])
        XCTAssertEqual(try MaxPool<Float>(inputShape: [32, 32, 32], height: 2, width: 2, stride: 2).outputShape, [32, 16, 16])
    }

    // MARK: benchmark (opt-in)

    func testBenchmarkConv() throws {
        guard ProcessInfo.processInfo.environment["RUNNER_CONV_BENCH"] != nil else {
            throw XCTSkip("set RUNNER_CONV_BENCH=1 to run the convolution benchmark")
        }
        for line in benchmarkConv(minSeconds: 1) { print(line) }
    }
}
