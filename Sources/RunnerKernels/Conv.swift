/// Convolution and pooling kernels on `(N, C, H, W)` row-major buffers.
///
/// Convolution is cross-correlation with zero padding and a stride:
/// `y[n, f, i, j] = b[f] + Σ_{c, p, q} w[f, c, p, q] · x[n, c, i·s − pad + p, j·s − pad + q]`
/// (out-of-range `x` reads are 0), `H' = 1 + (H + 2·pad − HH)/s`, likewise `W'`.
///
/// The fast path lowers each block of images to a patch matrix (im2col,
/// `K × (images·P)` with `K = C·HH·WW` rows and `P = H'·W'` columns) and hands the
/// arithmetic to `T.gemm`: forward `Y = W·cols` (2·F·K·P flops per image), backward
/// `dW += dY·colsᵀ` and `dcols = Wᵀ·dY` (2·F·K·P each) followed by col2im.
/// Patch matrices are built per block of at most `ConvGeometry.chunk(batch:)` images,
/// so memory stays bounded for large batches. The `…Reference` kernels are the direct
/// loops, written for clarity: tests compare the fast kernels against them.
///
/// Why im2col + GEMM (measured, Float, batch 50, one core of this AVX-512 machine): the
/// forward runs at 105–150 GFLOP/s and the backward at 85–130 on the course shapes, with
/// im2col/col2im taking 15–25% of the time. A register-blocked direct forward (8 filters ×
/// 32 outputs per step) was 2× faster for 3→32 filters 7×7 (the im2col share is largest
/// there) but 10% slower for 3→64 3×3, and would need its own dW and dx kernels; one
/// GEMM-based path for all three products was kept instead.
///
/// Max pooling keeps the largest value of each `ph × pw` window (stride `s`); its
/// gradient goes to the FIRST maximum of the window in row-major order and is
/// accumulated where windows overlap. The backward recomputes that position from `x`,
/// so no index buffer is stored.
// The conv kernels: one generic function each, specialised for Float and Double
// (`@_specialize`), so callers generic over `T: Real` in any module reach specialised code.

/// Shapes of one convolution. Construct only valid geometries (see `outputSize`).
public struct ConvGeometry: Equatable, Sendable {
    public let channels: Int, height: Int, width: Int
    public let filters: Int, kernelHeight: Int, kernelWidth: Int
    public let stride: Int, pad: Int
    public let outHeight: Int, outWidth: Int

    /// `1 + (input + 2·pad − kernel)/stride` when that is a positive integer, else nil.
    public static func outputSize(input: Int, kernel: Int, stride: Int, pad: Int) -> Int? {
        guard input > 0, kernel > 0, stride > 0, pad >= 0 else { return nil }
        let span = input + 2 * pad - kernel
        guard span >= 0, span % stride == 0 else { return nil }
        return 1 + span / stride
    }

    public init(channels: Int, height: Int, width: Int, filters: Int, kernelHeight: Int, kernelWidth: Int, stride: Int, pad: Int) {
        let oh = ConvGeometry.outputSize(input: height, kernel: kernelHeight, stride: stride, pad: pad)
        let ow = ConvGeometry.outputSize(input: width, kernel: kernelWidth, stride: stride, pad: pad)
        precondition(oh != nil && ow != nil && channels > 0 && filters > 0,
                     "invalid conv geometry \([channels, height, width]) * \([filters, channels, kernelHeight, kernelWidth]) stride \(stride) pad \(pad)")
        self.channels = channels; self.height = height; self.width = width
        self.filters = filters; self.kernelHeight = kernelHeight; self.kernelWidth = kernelWidth
        self.stride = stride; self.pad = pad
        self.outHeight = oh!; self.outWidth = ow!
    }

    /// Rows of the patch matrix, `C·HH·WW` (also the weight's row length).
    public var patchSize: Int { channels * kernelHeight * kernelWidth }
    /// Output positions per image, `H'·W'`.
    public var positions: Int { outHeight * outWidth }
    public var inputCount: Int { channels * height * width }
    public var outputCount: Int { filters * outHeight * outWidth }
    /// Forward flops per image (`2·F·K·P`); the backward is twice that with `dx`, once without.
    public var forwardFlops: Int { 2 * filters * patchSize * positions }

    /// Images per im2col block: enough columns (≈ 1024) for an efficient GEMM when the
    /// maps are small, one image otherwise (then the GEMM writes `y` directly).
    public func chunk(batch: Int) -> Int { max(1, min(batch, 1024 / max(positions, 1))) }
    public func colsCount(chunk: Int) -> Int { patchSize * positions * chunk }
    public func tmpCount(chunk: Int) -> Int { chunk > 1 ? filters * positions * chunk : 0 }
}

/// Shapes of one max pool over `H × W` planes.
public struct PoolGeometry: Equatable, Sendable {
    public let height: Int, width: Int
    public let poolHeight: Int, poolWidth: Int, stride: Int
    public let outHeight: Int, outWidth: Int

    public init(height: Int, width: Int, poolHeight: Int, poolWidth: Int, stride: Int) {
        let oh = ConvGeometry.outputSize(input: height, kernel: poolHeight, stride: stride, pad: 0)
        let ow = ConvGeometry.outputSize(input: width, kernel: poolWidth, stride: stride, pad: 0)
        precondition(oh != nil && ow != nil, "invalid pool geometry \([height, width]) window \(poolHeight)×\(poolWidth) stride \(stride)")
        self.height = height; self.width = width
        self.poolHeight = poolHeight; self.poolWidth = poolWidth; self.stride = stride
        self.outHeight = oh!; self.outWidth = ow!
    }
}

// MARK: - im2col / col2im

/// Patch matrix of one image: `cols[(c·HH + p)·WW + q, col0 + i·W' + j]` with leading dimension `ld`.
@_specialize(where T == Float)
@_specialize(where T == Double)
public func convIm2col<T: Real>(_ g: ConvGeometry, x: UnsafePointer<T>, cols: UnsafeMutablePointer<T>, ld: Int, col0: Int) {
    let h = g.height, w = g.width, oh = g.outHeight, ow = g.outWidth, s = g.stride, pad = g.pad
    var row = 0
    for c in 0..<g.channels {
        let plane = x + c * h * w
        for p in 0..<g.kernelHeight {
            for q in 0..<g.kernelWidth {
                let out = cols + row * ld + col0
                row += 1
                // valid output columns j: 0 ≤ j·s − pad + q < w
                let jLo = min(ow, max(0, (pad - q + s - 1) / s))
                let last = w - 1 + pad - q   // j·s ≤ last
                let jHi = last < 0 ? jLo : max(jLo, min(ow, last / s + 1))
                for i in 0..<oh {
                    let o = out + i * ow
                    let ih = i * s - pad + p
                    if ih < 0 || ih >= h { convZero(o, count: ow); continue }
                    convZero(o, count: jLo)
                    if jHi < ow { convZero(o + jHi, count: ow - jHi) }
                    let src = plane + ih * w - pad + q
                    if s == 1 {
                        if jHi > jLo { convCopy(src + jLo, o + jLo, count: jHi - jLo) }
                    } else {
                        for j in jLo..<jHi { o[j] = src[j * s] }
                    }
                }
            }
        }
    }
}

/// `dst[0..<count] = src[0..<count]` inline, 8 lanes at a time: the rows of a patch matrix
/// are short (an output row, 16–32 values here), and a `memmove`/`memset` call per row
/// cost more than the copy itself (13% of a 32×16×16 → 64 3×3 layer's time, measured).
@inline(__always)
func convCopy<T: Real>(_ src: UnsafePointer<T>, _ dst: UnsafeMutablePointer<T>, count: Int) {
    let s = UnsafeRawPointer(src), d = UnsafeMutableRawPointer(dst), st = MemoryLayout<T>.stride
    var i = 0
    while i + 8 <= count {
        d.storeBytes(of: s.loadUnaligned(fromByteOffset: i * st, as: SIMD8<T>.self), toByteOffset: i * st, as: SIMD8<T>.self)
        i += 8
    }
    while i < count { dst[i] = src[i]; i += 1 }
}

/// `dst[0..<count] = 0` inline (see `convCopy`).
@inline(__always)
func convZero<T: Real>(_ dst: UnsafeMutablePointer<T>, count: Int) {
    let d = UnsafeMutableRawPointer(dst), st = MemoryLayout<T>.stride
    var i = 0
    while i + 8 <= count { d.storeBytes(of: SIMD8<T>(), toByteOffset: i * st, as: SIMD8<T>.self); i += 8 }
    while i < count { dst[i] = 0; i += 1 }
}

/// Inverse scatter of `convIm2col`: overwrites the image `dx (C, H, W)` with the sum of
/// the patch-matrix entries that read each pixel.
@_specialize(where T == Float)
@_specialize(where T == Double)
public func convCol2im<T: Real>(_ g: ConvGeometry, cols: UnsafePointer<T>, ld: Int, col0: Int, dx: UnsafeMutablePointer<T>) {
    let h = g.height, w = g.width, oh = g.outHeight, ow = g.outWidth, s = g.stride, pad = g.pad
    dx.update(repeating: 0, count: g.inputCount)
    var row = 0
    for c in 0..<g.channels {
        let plane = dx + c * h * w
        for p in 0..<g.kernelHeight {
            for q in 0..<g.kernelWidth {
                let src = cols + row * ld + col0
                row += 1
                let jLo = min(ow, max(0, (pad - q + s - 1) / s))
                let last = w - 1 + pad - q   // j·s ≤ last
                let jHi = last < 0 ? jLo : max(jLo, min(ow, last / s + 1))
                for i in 0..<oh {
                    let ih = i * s - pad + p
                    if ih < 0 || ih >= h { continue }
                    let o = src + i * ow
                    let dst = plane + ih * w - pad + q
                    if s == 1 {
                        for j in jLo..<jHi { dst[j] += o[j] }
                    } else {
                        for j in jLo..<jHi { dst[j * s] += o[j] }
                    }
                }
            }
        }
    }
}

// MARK: - fast conv (im2col + GEMM)

/// `Σ x[0..<count]` with 32 independent lanes: a plain `acc += x[j]` loop is one serial
/// dependency chain (the compiler may not reorder floating-point adds), which made the bias
/// gradient cost as much as the weight-gradient GEMM.
@inline(__always)
func convSum<T: Real>(_ x: UnsafePointer<T>, count: Int) -> T {
    let raw = UnsafeRawPointer(x), st = MemoryLayout<T>.stride
    var a0 = SIMD8<T>(), a1 = SIMD8<T>(), a2 = SIMD8<T>(), a3 = SIMD8<T>()
    var i = 0
    while i + 32 <= count {
        a0 += raw.loadUnaligned(fromByteOffset: i * st, as: SIMD8<T>.self)
        a1 += raw.loadUnaligned(fromByteOffset: (i + 8) * st, as: SIMD8<T>.self)
        a2 += raw.loadUnaligned(fromByteOffset: (i + 16) * st, as: SIMD8<T>.self)
        a3 += raw.loadUnaligned(fromByteOffset: (i + 24) * st, as: SIMD8<T>.self)
        i += 32
    }
    while i + 8 <= count { a0 += raw.loadUnaligned(fromByteOffset: i * st, as: SIMD8<T>.self); i += 8 }
    var acc = ((a0 + a1) + (a2 + a3)).sum()
    while i < count { acc += x[i]; i += 1 }
    return acc
}

/// Patch matrix of the block of `nb` images starting at `start`: `K × (nb·P)` with leading
/// dimension `nb·P` (image `j` in columns `[j·P, (j+1)·P)`). The same layout whether it
/// lives in a worker's scratch or in the whole-batch buffer kept for the backward, where
/// the block starts at offset `start·K·P`.
@inline(__always)
func convBlockCols<T: Real>(_ g: ConvGeometry, start: Int, nb: Int, x: UnsafePointer<T>,
                            cols: UnsafeMutablePointer<T>, ready: Bool) {
    if ready { return }
    let ld = nb * g.positions
    for j in 0..<nb { convIm2col(g, x: x + (start + j) * g.inputCount, cols: cols, ld: ld, col0: j * g.positions) }
}

@inline(__always)
func convIsPointwise(_ g: ConvGeometry) -> Bool {
    g.kernelHeight == 1 && g.kernelWidth == 1 && g.stride == 1 && g.pad == 0
}

/// Forward of one block of `nb` images from image `start`. `colsReady`: `cols` already
/// holds the block's patch matrix.
@inline(__always)
func convForwardBlock<T: Real>(_ g: ConvGeometry, start: Int, nb: Int, x: UnsafePointer<T>, weight: UnsafePointer<T>,
                               bias: UnsafePointer<T>, cols: UnsafeMutablePointer<T>, colsReady: Bool,
                               tmp: UnsafeMutablePointer<T>, y: UnsafeMutablePointer<T>) {
    let k = g.patchSize, p = g.positions, f = g.filters
    let ld = nb * p
    if nb == 1 {
        let img = x + start * g.inputCount
        let b: UnsafePointer<T>
        if convIsPointwise(g) { b = img } else {
            convBlockCols(g, start: start, nb: 1, x: x, cols: cols, ready: colsReady); b = UnsafePointer(cols)
        }
        let out = y + start * g.outputCount
        T.gemm(transA: false, transB: false, m: f, n: p, k: k, a: weight, lda: k, b: b, ldb: p, c: out, ldc: p, accumulate: false)
        for fi in 0..<f { let r = out + fi * p, bv = bias[fi]; for j in 0..<p { r[j] += bv } }
    } else {
        convBlockCols(g, start: start, nb: nb, x: x, cols: cols, ready: colsReady)
        T.gemm(transA: false, transB: false, m: f, n: ld, k: k, a: weight, lda: k, b: cols, ldb: ld, c: tmp, ldc: ld, accumulate: false)
        for j in 0..<nb {
            let out = y + (start + j) * g.outputCount
            for fi in 0..<f {
                let r = out + fi * p, t = tmp + fi * ld + j * p, bv = bias[fi]
                for q in 0..<p { r[q] = t[q] + bv }
            }
        }
    }
}

/// Where the weight gradient of one block goes: accumulated into `dW` by one GEMM (`first`:
/// overwrite instead), or, for the threaded backward, each depth-block term of that GEMM
/// (`T.gemmDepthBlock`) written apart into `terms` (`blocks · F·K` values) for
/// `convFoldTerms` to add up in order.
enum ConvWeightGradient<T: Real> {
    case accumulate(UnsafeMutablePointer<T>, first: Bool)
    case terms(UnsafeMutablePointer<T>)
}

/// Backward of one block of `nb` images from image `start`: the weight gradient as `dw`
/// says, and (when `dx` is non-nil) the input gradient of those images. `tmp` receives the
/// block's `dout` side by side when `nb > 1`.
@inline(__always)
func convBackwardBlock<T: Real>(_ g: ConvGeometry, start: Int, nb: Int, x: UnsafePointer<T>, weight: UnsafePointer<T>,
                                dout: UnsafePointer<T>, cols: UnsafeMutablePointer<T>, colsReady: Bool,
                                tmp: UnsafeMutablePointer<T>, dcols: UnsafeMutablePointer<T>?,
                                dx: UnsafeMutablePointer<T>?, dw: ConvWeightGradient<T>) {
    let k = g.patchSize, p = g.positions, f = g.filters
    let ld = nb * p
    // dW (+)= A·Bᵀ with A = dout of the block (F × ld), B = its patch matrix (K × ld)
    let a: UnsafePointer<T>, b: UnsafePointer<T>
    if nb == 1 {
        a = dout + start * g.outputCount
        if convIsPointwise(g) { b = x + start * g.inputCount } else {
            convBlockCols(g, start: start, nb: 1, x: x, cols: cols, ready: colsReady); b = UnsafePointer(cols)
        }
    } else {
        convBlockCols(g, start: start, nb: nb, x: x, cols: cols, ready: colsReady)
        for j in 0..<nb {
            let d = dout + (start + j) * g.outputCount
            for fi in 0..<f { (tmp + fi * ld + j * p).update(from: d + fi * p, count: p) }
        }
        a = UnsafePointer(tmp); b = UnsafePointer(cols)
    }
    switch dw {
    case .accumulate(let dweight, let first):
        T.gemm(transA: false, transB: true, m: f, n: k, k: ld, a: a, lda: ld, b: b, ldb: ld, c: dweight, ldc: k, accumulate: !first)
    case .terms(let terms):
        let kb = T.gemmDepthBlock(k: ld)
        var pc = 0, t = terms
        while pc < ld {
            let kc = min(kb, ld - pc)
            T.gemm(transA: false, transB: true, m: f, n: k, k: kc, a: a + pc, lda: ld, b: b + pc, ldb: ld, c: t, ldc: k, accumulate: false)
            pc += kc; t += f * k
        }
    }
    guard let dx else { return }
    if nb == 1 && convIsPointwise(g) {
        T.gemm(transA: true, transB: false, m: k, n: p, k: f, a: weight, lda: k, b: a, ldb: p,
               c: dx + start * g.inputCount, ldc: p, accumulate: false)
    } else if let dcols {
        T.gemm(transA: true, transB: false, m: k, n: ld, k: f, a: weight, lda: k, b: a, ldb: ld, c: dcols, ldc: ld, accumulate: false)
        for j in 0..<nb { convCol2im(g, cols: dcols, ld: ld, col0: j * p, dx: dx + (start + j) * g.inputCount) }
    }
}

/// Fast forward: `y (n, F, H', W')` from `x (n, C, H, W)`, `weight (F, C, HH, WW)`, `bias (F)`,
/// one thread. Scratch: `cols` ≥ `g.colsCount(chunk:)`, `tmp` ≥ `g.tmpCount(chunk:)` (unused
/// when `chunk == 1`).
@_specialize(where T == Float)
@_specialize(where T == Double)
public func convForward<T: Real>(_ g: ConvGeometry, n: Int, chunk: Int, x: UnsafePointer<T>, weight: UnsafePointer<T>,
                              bias: UnsafePointer<T>, cols: UnsafeMutablePointer<T>, tmp: UnsafeMutablePointer<T>,
                              y: UnsafeMutablePointer<T>) {
    var start = 0
    while start < n {
        let nb = min(max(chunk, 1), n - start)
        convForwardBlock(g, start: start, nb: nb, x: x, weight: weight, bias: bias, cols: cols, colsReady: false, tmp: tmp, y: y)
        start += nb
    }
}

/// Fast backward, one thread: overwrites `dweight`, `dbias` and (when non-nil) `dx`. `dcols`
/// (same size as `cols`) is needed only with `dx`. Recomputes the patch matrices from `x`.
@_specialize(where T == Float)
@_specialize(where T == Double)
public func convBackward<T: Real>(_ g: ConvGeometry, n: Int, chunk: Int, x: UnsafePointer<T>, weight: UnsafePointer<T>,
                               dout: UnsafePointer<T>, cols: UnsafeMutablePointer<T>, tmp: UnsafeMutablePointer<T>,
                               dcols: UnsafeMutablePointer<T>?, dx: UnsafeMutablePointer<T>?,
                               dweight: UnsafeMutablePointer<T>, dbias: UnsafeMutablePointer<T>) {
    precondition(dx == nil || dcols != nil || (convIsPointwise(g) && chunk <= 1), "convBackward: dx needs a dcols scratch buffer")
    let f = g.filters, p = g.positions
    dbias.update(repeating: 0, count: f)
    if n == 0 { dweight.update(repeating: 0, count: f * g.patchSize); return }
    for img in 0..<n {
        let d = dout + img * g.outputCount
        for fi in 0..<f { dbias[fi] += convSum(d + fi * p, count: p) }
    }
    var start = 0
    while start < n {
        let nb = min(max(chunk, 1), n - start)
        convBackwardBlock(g, start: start, nb: nb, x: x, weight: weight, dout: dout, cols: cols, colsReady: false, tmp: tmp,
                          dcols: dcols, dx: dx, dw: .accumulate(dweight, first: start == 0))
        start += nb
    }
}

// MARK: - threaded conv (blocks of images over the compute context's threads)

/// Scratch of the threaded fast kernels (`convForward(_:n:x:…:scratch:threads:keep:)`):
/// per worker thread a patch matrix, its gradient and the GEMM scratch of one block; for
/// the backward the weight-gradient terms of the blocks of one wave; and, when it fits in
/// `keptLimitBytes`, the patch matrices of the whole batch from the last training forward,
/// so the backward does not build them again. Grown on demand and reused across calls.
///
/// Memory: `workers · (2·K·P·chunk + F·P·chunk)` elements of block scratch, at most 4 MiB
/// (or one block per worker) of weight-gradient terms `⌈chunk·P / kc⌉·F·K + chunk·F` per
/// block of a wave, plus `K·P·n` kept when `K·P·n·size ≤ 64 MiB`
/// (e.g. the 3 → 64 3×3 layer of cnn_best at batch 500: 27·1024·500·4 B = 55 MB, kept; its
/// 3 → 32 7×7 at batch 500 (294 MB) is not, at batch 50 (29 MB) it is).
public final class ConvScratch<T: Real>: @unchecked Sendable {
    /// Largest whole-batch patch matrix kept from forward to backward (bytes).
    public static var keptLimitBytes: Int { 64 << 20 }
    let cols = Tensor<T>(shape: [0]), dcols = Tensor<T>(shape: [0]), tmp = Tensor<T>(shape: [1])
    let terms = Tensor<T>(shape: [0]), kept = Tensor<T>(shape: [0])
    /// The input and batch size the kept patch matrices were built from (nil: none kept).
    private var keptFrom: (x: UnsafePointer<T>, n: Int)?

    public init() {}

    /// Whether the patch matrices of `n` images are kept from forward to backward.
    public static func keeps(_ g: ConvGeometry, batch n: Int) -> Bool {
        !convIsPointwise(g) && g.patchSize * g.positions * n * MemoryLayout<T>.stride <= keptLimitBytes
    }

    fileprivate func keptCols(for x: UnsafePointer<T>, n: Int) -> UnsafeMutablePointer<T>? {
        guard let k = keptFrom, k.x == x, k.n == n else { return nil }
        return kept.data
    }

    fileprivate func reserve(_ t: Tensor<T>, _ count: Int) { if t.count < count { t.resize([max(count, 1)]) } }

    /// Sizes the buffers for `plan`; for a training forward (`keep`) the kept patch matrices too.
    fileprivate func prepare(_ g: ConvGeometry, _ plan: ConvPlan, withDx: Bool, terms: Bool) {
        let cc = g.colsCount(chunk: plan.chunk)
        reserve(cols, plan.workers * cc)
        if withDx { reserve(dcols, plan.workers * cc) }
        reserve(tmp, plan.workers * max(g.tmpCount(chunk: plan.chunk), 1))
        if terms { reserve(self.terms, plan.wave * plan.termStride) }
    }

    fileprivate func keep(_ x: UnsafePointer<T>?, n: Int, _ g: ConvGeometry) {
        if let x {
            reserve(kept, g.patchSize * g.positions * n)
            keptFrom = (x, n)
        } else {
            keptFrom = nil
        }
    }
}

/// How a threaded conv call is cut: blocks of `chunk` images (the same blocks as on one
/// thread), `workers` threads taking the blocks one by one (`forEachItem`), and for the backward
/// waves of `wave` blocks whose weight-gradient terms are summed in block order.
struct ConvPlan {
    let chunk: Int, blocks: Int, workers: Int, wave: Int, termStride: Int

    init<T: Real>(_ g: ConvGeometry, batch n: Int, threads: Int, _: T.Type) {
        chunk = g.chunk(batch: n)
        blocks = (n + chunk - 1) / chunk
        workers = max(1, min(threads, blocks))
        let ld = chunk * g.positions
        let kb = T.gemmDepthBlock(k: ld)
        termStride = (ld + kb - 1) / kb * g.filters * g.patchSize + chunk * g.filters
        // As many blocks per wave as 4 MiB of terms hold (a multiple of the workers, at least
        // one each): every wave ends in a barrier, which costs most when other processes
        // share the cores (a descheduled worker holds up the others).
        let fit = max(1, (4 << 20) / (termStride * MemoryLayout<T>.stride))
        wave = max(1, min(blocks, fit) / workers) * workers
    }
}

/// Threaded fast forward: the blocks of images go to `threads` threads (the same blocks and
/// the same GEMMs as `convForward(_:n:chunk:…)`, so `y` is bit-identical to one thread).
/// `keep`: a training forward; the patch matrices are kept for `convBackward` when they fit.
@_specialize(where T == Float)
@_specialize(where T == Double)
public func convForward<T: Real>(_ g: ConvGeometry, n: Int, x: UnsafePointer<T>, weight: UnsafePointer<T>,
                                 bias: UnsafePointer<T>, y: UnsafeMutablePointer<T>,
                                 scratch: ConvScratch<T>, threads: Int, keep: Bool) {
    let plan = ConvPlan(g, batch: n, threads: threads, T.self)
    scratch.prepare(g, plan, withDx: false, terms: false)
    let keeping = keep && ConvScratch<T>.keeps(g, batch: n)
    scratch.keep(keeping ? x : nil, n: n, g)
    let cc = g.colsCount(chunk: plan.chunk), tc = max(g.tmpCount(chunk: plan.chunk), 1)
    let cols = scratch.cols.data, tmp = scratch.tmp.data, kept = scratch.kept.data
    let kp = g.patchSize * g.positions
    forEachItem(plan.blocks, workers: plan.workers) { t, bi in
        let start = bi * plan.chunk, nb = min(plan.chunk, n - start)
        convForwardBlock(g, start: start, nb: nb, x: x, weight: weight, bias: bias,
                         cols: keeping ? kept + start * kp : cols + t * cc, colsReady: false, tmp: tmp + t * tc, y: y)
    }
}

/// Threaded fast backward: overwrites `dweight`, `dbias` and (when non-nil) `dx`,
/// bit-identical to `convBackward(_:n:chunk:…)` on one thread. The input gradient of each
/// image is computed by one thread alone. The sums over the batch are split without
/// changing their order: per block, the bias-gradient sums of its images and the terms of
/// its weight-gradient GEMM (one per depth block, `T.gemmDepthBlock`) are computed in
/// parallel, a wave of blocks at a time, then added into `dbias` and `dweight` in block
/// order, which is the sequence of roundings of the one-thread GEMM that accumulates block
/// after block (`s₀`, `C + s₁`, …). The block boundaries depend on the batch and geometry
/// only (`g.chunk(batch:)`), never on `threads`. Extra work: one add per weight per term.
@_specialize(where T == Float)
@_specialize(where T == Double)
public func convBackward<T: Real>(_ g: ConvGeometry, n: Int, x: UnsafePointer<T>, weight: UnsafePointer<T>,
                                  dout: UnsafePointer<T>, dx: UnsafeMutablePointer<T>?,
                                  dweight: UnsafeMutablePointer<T>, dbias: UnsafeMutablePointer<T>,
                                  scratch: ConvScratch<T>, threads: Int) {
    let f = g.filters, k = g.patchSize, p = g.positions
    dbias.update(repeating: 0, count: f)
    if n == 0 { dweight.update(repeating: 0, count: f * k); return }
    let plan = ConvPlan(g, batch: n, threads: threads, T.self)
    scratch.prepare(g, plan, withDx: dx != nil, terms: true)
    let kept = scratch.keptCols(for: x, n: n)
    let cc = g.colsCount(chunk: plan.chunk), tc = max(g.tmpCount(chunk: plan.chunk), 1)
    let cols = scratch.cols.data, dcols = scratch.dcols.data, tmp = scratch.tmp.data, terms = scratch.terms.data
    let kp = k * p, fk = f * k
    var first = 0
    while first < plan.blocks {
        let count = min(plan.wave, plan.blocks - first)
        forEachItem(count, workers: plan.workers) { t, w in
            let start = (first + w) * plan.chunk, nb = min(plan.chunk, n - start)
            let slot = terms + w * plan.termStride
            let db = slot + plan.termStride - plan.chunk * f
            for j in 0..<nb {
                let d = dout + (start + j) * g.outputCount
                for fi in 0..<f { db[j * f + fi] = convSum(d + fi * p, count: p) }
            }
            convBackwardBlock(g, start: start, nb: nb, x: x, weight: weight, dout: dout,
                              cols: kept.map { $0 + start * kp } ?? cols + t * cc, colsReady: kept != nil,
                              tmp: tmp + t * tc, dcols: dx == nil ? nil : dcols + t * cc, dx: dx, dw: .terms(slot))
        }
        // the sums, in block order
        for w in 0..<count {
            let start = (first + w) * plan.chunk, nb = min(plan.chunk, n - start)
            let slot = terms + w * plan.termStride
            let db = slot + plan.termStride - plan.chunk * f
            for j in 0..<nb { for fi in 0..<f { dbias[fi] += db[j * f + fi] } }
            let ld = nb * p, kb = T.gemmDepthBlock(k: ld)
            var pc = 0, term = slot
            while pc < ld {
                if start == 0 && pc == 0 {
                    dweight.update(from: term, count: fk)
                } else {
                    for i in 0..<fk { dweight[i] = dweight[i] + term[i] }
                }
                pc += min(kb, ld - pc); term += fk
            }
        }
        first += count
    }
}

// MARK: - reference conv (direct loops)

/// Direct-loop forward (reference).
@_specialize(where T == Float)
@_specialize(where T == Double)
public func convForwardReference<T: Real>(_ g: ConvGeometry, n: Int, x: UnsafePointer<T>, weight: UnsafePointer<T>,
                                       bias: UnsafePointer<T>, y: UnsafeMutablePointer<T>) {
    let (C, H, W, F, HH, WW) = (g.channels, g.height, g.width, g.filters, g.kernelHeight, g.kernelWidth)
    let (OH, OW, s, pad) = (g.outHeight, g.outWidth, g.stride, g.pad)
    for img in 0..<n {
        for f in 0..<F {
            for i in 0..<OH {
                for j in 0..<OW {
                    var acc = bias[f]
                    for c in 0..<C {
                        for p in 0..<HH {
                            for q in 0..<WW {
                                let ih = i * s - pad + p, iw = j * s - pad + q
                                if ih < 0 || ih >= H || iw < 0 || iw >= W { continue }
                                acc += weight[((f * C + c) * HH + p) * WW + q] * x[((img * C + c) * H + ih) * W + iw]
                            }
                        }
                    }
                    y[((img * F + f) * OH + i) * OW + j] = acc
                }
            }
        }
    }
}

/// Direct-loop backward (reference); overwrites `dweight`, `dbias`, `dx` (when non-nil).
@_specialize(where T == Float)
@_specialize(where T == Double)
public func convBackwardReference<T: Real>(_ g: ConvGeometry, n: Int, x: UnsafePointer<T>, weight: UnsafePointer<T>,
                                        dout: UnsafePointer<T>, dx: UnsafeMutablePointer<T>?,
                                        dweight: UnsafeMutablePointer<T>, dbias: UnsafeMutablePointer<T>) {
    let (C, H, W, F, HH, WW) = (g.channels, g.height, g.width, g.filters, g.kernelHeight, g.kernelWidth)
    let (OH, OW, s, pad) = (g.outHeight, g.outWidth, g.stride, g.pad)
    dweight.update(repeating: 0, count: F * C * HH * WW)
    dbias.update(repeating: 0, count: F)
    dx?.update(repeating: 0, count: n * C * H * W)
    for img in 0..<n {
        for f in 0..<F {
            for i in 0..<OH {
                for j in 0..<OW {
                    let d = dout[((img * F + f) * OH + i) * OW + j]
                    dbias[f] += d
                    for c in 0..<C {
                        for p in 0..<HH {
                            for q in 0..<WW {
                                let ih = i * s - pad + p, iw = j * s - pad + q
                                if ih < 0 || ih >= H || iw < 0 || iw >= W { continue }
                                let wi = ((f * C + c) * HH + p) * WW + q
                                let xi = ((img * C + c) * H + ih) * W + iw
                                dweight[wi] += d * x[xi]
                                dx?[xi] += d * weight[wi]
                            }
                        }
                    }
                }
            }
        }
    }
}

// MARK: - max pool

/// 0 or 1 without a branch (`b ? 1 : 0` may compile to a jump).
@inline(__always)
func convFlag(_ b: Bool) -> Int { Int(unsafeBitCast(b, to: UInt8.self)) }

/// Max pool over `planes = N·C` planes of `H × W`: `y (planes, H', W')`. O(planes·H'·W'·ph·pw).
@_specialize(where T == Float)
@_specialize(where T == Double)
public func maxpoolForward<T: Real>(_ g: PoolGeometry, planes: Int, x: UnsafePointer<T>, y: UnsafeMutablePointer<T>) {
    let (h, w, oh, ow, s) = (g.height, g.width, g.outHeight, g.outWidth, g.stride)
    if g.poolHeight == 2 && g.poolWidth == 2 && s == 2 {
        for pl in 0..<planes {
            let xp = x + pl * h * w, yp = y + pl * oh * ow
            for i in 0..<oh {
                let r0 = xp + 2 * i * w, r1 = r0 + w, o = yp + i * ow
                for j in 0..<ow { o[j] = max(max(r0[2 * j], r0[2 * j + 1]), max(r1[2 * j], r1[2 * j + 1])) }
            }
        }
        return
    }
    for pl in 0..<planes {
        let xp = x + pl * h * w, yp = y + pl * oh * ow
        for i in 0..<oh {
            for j in 0..<ow {
                let base = xp + i * s * w + j * s
                var m = base[0]
                for p in 0..<g.poolHeight { let r = base + p * w; for q in 0..<g.poolWidth where r[q] > m { m = r[q] } }
                yp[i * ow + j] = m
            }
        }
    }
}

/// Overwrites `dx (planes, H, W)`: each `dout` entry goes to the first maximum of its window.
@_specialize(where T == Float)
@_specialize(where T == Double)
public func maxpoolBackward<T: Real>(_ g: PoolGeometry, planes: Int, x: UnsafePointer<T>, dout: UnsafePointer<T>, dx: UnsafeMutablePointer<T>) {
    let (h, w, oh, ow, s) = (g.height, g.width, g.outHeight, g.outWidth, g.stride)
    if g.poolHeight == 2 && g.poolWidth == 2 && s == 2 {
        // Valid geometry makes H and W even: the windows tile the plane exactly, so every
        // dx entry is written here (no separate zero fill). Which of the four holds the
        // maximum is data-dependent: a compare-and-branch chain mispredicts most of the time
        // (5× slower, measured), so the position is computed arithmetically from 0/1 flags.
        for pl in 0..<planes {
            let xp = x + pl * h * w, dp = dx + pl * h * w, gp = dout + pl * oh * ow
            for i in 0..<oh {
                let r0 = xp + 2 * i * w, r1 = r0 + w, d0 = dp + 2 * i * w, d1 = d0 + w, gr = gp + i * ow
                for j in 0..<ow {
                    let a = r0[2 * j], b = r0[2 * j + 1], c = r1[2 * j], e = r1[2 * j + 1]
                    let m = max(max(a, b), max(c, e)), v = gr[j]
                    // first maximum in row-major order a, b, c, e: index 0…3
                    let k = convFlag(a != m) &* (1 &+ convFlag(b != m) &* (1 &+ convFlag(c != m)))
                    d0[2 * j] = 0; d0[2 * j + 1] = 0; d1[2 * j] = 0; d1[2 * j + 1] = 0
                    d0[2 * j &+ (k & 1) &+ (k >> 1) &* w] = v
                }
            }
            // rows/columns beyond the last window (only possible for an invalid geometry)
            for r in (2 * oh)..<h { (dp + r * w).update(repeating: 0, count: w) }
            if 2 * ow < w { for r in 0..<(2 * oh) { (dp + r * w + 2 * ow).update(repeating: 0, count: w - 2 * ow) } }
        }
        return
    }
    dx.update(repeating: 0, count: planes * h * w)
    for pl in 0..<planes {
        let xp = x + pl * h * w, dp = dx + pl * h * w, gp = dout + pl * oh * ow
        for i in 0..<oh {
            for j in 0..<ow {
                let off = i * s * w + j * s
                var best = off, m = xp[off]
                for p in 0..<g.poolHeight {
                    let r = off + p * w
                    for q in 0..<g.poolWidth where xp[r + q] > m { m = xp[r + q]; best = r + q }
                }
                dp[best] += gp[i * ow + j]
            }
        }
    }
}

@_specialize(where T == Float)
@_specialize(where T == Double)
public func maxpoolForwardReference<T: Real>(_ g: PoolGeometry, planes: Int, x: UnsafePointer<T>, y: UnsafeMutablePointer<T>) {
    for pl in 0..<planes {
        for i in 0..<g.outHeight {
            for j in 0..<g.outWidth {
                var m = -T.infinity
                for p in 0..<g.poolHeight {
                    for q in 0..<g.poolWidth {
                        let v = x[(pl * g.height + i * g.stride + p) * g.width + j * g.stride + q]
                        if v > m { m = v }
                    }
                }
                y[(pl * g.outHeight + i) * g.outWidth + j] = m
            }
        }
    }
}

@_specialize(where T == Float)
@_specialize(where T == Double)
public func maxpoolBackwardReference<T: Real>(_ g: PoolGeometry, planes: Int, x: UnsafePointer<T>, dout: UnsafePointer<T>, dx: UnsafeMutablePointer<T>) {
    dx.update(repeating: 0, count: planes * g.height * g.width)
    for pl in 0..<planes {
        for i in 0..<g.outHeight {
            for j in 0..<g.outWidth {
                var best = -1
                var m = -T.infinity
                for p in 0..<g.poolHeight {
                    for q in 0..<g.poolWidth {
                        let idx = (pl * g.height + i * g.stride + p) * g.width + j * g.stride + q
                        if best < 0 || x[idx] > m { m = x[idx]; best = idx }
                    }
                }
                dx[best] += dout[(pl * g.outHeight + i) * g.outWidth + j]
            }
        }
    }
}

// MARK: - conformances
