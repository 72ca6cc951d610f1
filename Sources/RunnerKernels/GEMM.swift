#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Dispatch
import CKernels

/// Matrix multiply, the hot path of training.
///
/// `C (m×n) = op(A) · op(B)` (or `C += …` when `accumulate`), all row-major with leading
/// dimensions: `op(A)` is `m×k` (A stored `m×k`, or `k×m` when `transA`), `op(B)` is `k×n`
/// (B stored `k×n`, or `n×k` when `transB`). Cost: `2·m·n·k` flops.
public protocol GEMMKernels {
    static func gemm(transA: Bool, transB: Bool, m: Int, n: Int, k: Int,
                     a: UnsafePointer<Self>, lda: Int,
                     b: UnsafePointer<Self>, ldb: Int,
                     c: UnsafeMutablePointer<Self>, ldc: Int,
                     accumulate: Bool)
    /// Length of the depth blocks `gemm` cuts `k` into (the last one may be shorter): each
    /// element of C is `s₀`, then `C + s₁`, `C + s₂`, … over these blocks in order (`s_b`
    /// an FMA chain over the block from zero). A function of `k` alone, so a caller can
    /// compute the terms `s_b` separately (`gemm` with `k` ≤ this length has one block) and
    /// add them up in the same order: `convBackward` does so to split a sum over images
    /// across threads with bit-identical results.
    static func gemmDepthBlock(k: Int) -> Int
}

/// The plain triple loop, written for clarity: tests compare the fast kernels against it.
public func gemmReference<T: BinaryFloatingPoint>(
    transA: Bool, transB: Bool, m: Int, n: Int, k: Int,
    a: UnsafePointer<T>, lda: Int, b: UnsafePointer<T>, ldb: Int,
    c: UnsafeMutablePointer<T>, ldc: Int, accumulate: Bool
) {
    for i in 0..<m {
        for j in 0..<n {
            var s: T = 0
            for p in 0..<k {
                let av = transA ? a[p * lda + i] : a[i * lda + p]
                let bv = transB ? b[j * ldb + p] : b[p * ldb + j]
                s += av * bv
            }
            c[i * ldc + j] = accumulate ? c[i * ldc + j] + s : s
        }
    }
}

extension Float: GEMMKernels {
    public static func gemm(transA: Bool, transB: Bool, m: Int, n: Int, k: Int,
                            a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
                            c: UnsafeMutablePointer<Float>, ldc: Int, accumulate: Bool) {
        gemmBlocked(transA: transA, transB: transB, m: m, n: n, k: k, a: a, lda: lda, b: b, ldb: ldb, c: c, ldc: ldc, accumulate: accumulate,
                    tiling: .forTarget)
    }
    public static func gemmDepthBlock(k: Int) -> Int { gemmDepthBlockSize(k: k, kcBlock: kcBlock) }
}

extension Double: GEMMKernels {
    public static func gemm(transA: Bool, transB: Bool, m: Int, n: Int, k: Int,
                            a: UnsafePointer<Double>, lda: Int, b: UnsafePointer<Double>, ldb: Int,
                            c: UnsafeMutablePointer<Double>, ldc: Int, accumulate: Bool) {
        gemmBlocked(transA: transA, transB: transB, m: m, n: n, k: k, a: a, lda: lda, b: b, ldb: ldb, c: c, ldc: ldc, accumulate: accumulate,
                    tiling: .forTarget)
    }
    public static func gemmDepthBlock(k: Int) -> Int { gemmDepthBlockSize(k: k, kcBlock: kcBlock) }
}

/// The register tile of the micro-kernel: `mr` rows of C by `vectors` SIMD vectors
/// (16 floats or 8 doubles each), i.e. `mr · vectors` vector accumulators. Chosen by what
/// the code is compiled for (`ck_target_vector_bits`, the compiler's view of the target):
///
/// | vector registers of the target | tile (Float) | accumulators |
/// |---|---|---|
/// | 512-bit (AVX-512, executed natively as on Zen 5 or in two 256-bit halves as on Zen 4) | 12 × 32 | 24 of 32 zmm |
/// | 256-bit (AVX2 + FMA only, e.g. `-target-cpu haswell`) | 6 × 16 | 6 SIMD16 = 12 of 16 ymm |
/// | 128-bit (arm64 NEON; also SSE-only x86) | 6 × 16 | 24 of 32 q registers |
///
/// (A 12 × 32 tile on a 256-bit target needs 48 registers for its accumulators and spills.)
/// Zen 4 and Zen 5 run the same tile: both have 32 zmm registers, and Zen 4's halved
/// 512-bit datapath halves the peak of every kernel alike. The choice never changes a
/// result: every element is the same FMA chain whatever tile computes it (see
/// "Determinism"), so builds for different targets give bit-identical products.
public struct GEMMTiling: Equatable, Sendable, CustomStringConvertible {
    public let mr: Int, vectors: Int
    /// 12 rows × 2 vectors.
    public static let wide = GEMMTiling(mr: 12, vectors: 2)
    /// 6 rows × 1 vector.
    public static let narrow = GEMMTiling(mr: 6, vectors: 1)
    /// The tile for the target the code was compiled for (the table above).
    public static let forTarget: GEMMTiling = targetVectorBits >= 512 ? .wide : .narrow
    /// Bits of the widest vector registers the code was compiled for (512, 256 or 128).
    public static let targetVectorBits = Int(ck_target_vector_bits())
    public var description: String { "\(mr)×\(vectors * 16) (Float), \(mr)×\(vectors * 8) (Double)" }
}

/// `gemm` with an explicit register tile instead of `GEMMTiling.forTarget` (for tests and
/// benchmarks comparing tiles; the result is bit-identical).
public func gemm(tiling: GEMMTiling, transA: Bool, transB: Bool, m: Int, n: Int, k: Int,
                 a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
                 c: UnsafeMutablePointer<Float>, ldc: Int, accumulate: Bool) {
    gemmBlocked(transA: transA, transB: transB, m: m, n: n, k: k, a: a, lda: lda, b: b, ldb: ldb, c: c, ldc: ldc,
                accumulate: accumulate, tiling: tiling)
}

/// The Double version of `gemm(tiling:…)`.
public func gemm(tiling: GEMMTiling, transA: Bool, transB: Bool, m: Int, n: Int, k: Int,
                 a: UnsafePointer<Double>, lda: Int, b: UnsafePointer<Double>, ldb: Int,
                 c: UnsafeMutablePointer<Double>, ldc: Int, accumulate: Bool) {
    gemmBlocked(transA: transA, transB: transB, m: m, n: n, k: k, a: a, lda: lda, b: b, ldb: ldb, c: c, ldc: ldc,
                accumulate: accumulate, tiling: tiling)
}

/// Depth blocks of near-equal size, at most `kcBlock` deep: a function of `k` alone (see
/// "Determinism" below).
@inline(__always)
func gemmDepthBlockSize(k: Int, kcBlock: Int) -> Int {
    let kBlocks = max(1, (k + kcBlock - 1) / kcBlock)
    return max(1, (k + kBlocks - 1) / kBlocks)
}

// MARK: - Blocked SIMD implementation
//
// The Goto/BLIS scheme. For each column block `jc` (NC wide) and each depth block `pc`
// (KC deep), a KC×NC block of op(B) is packed into column panels NR wide (NR = two 512-bit
// vectors: 32 floats or 16 doubles) laid out p-major; for each row block `ic` (MC tall) an
// MC×KC block of op(A) is packed into row panels MR = 12 tall, also p-major. A register-
// blocked micro-kernel computes each MR×NR tile of C in 24 vector accumulators: per depth
// step it loads two vectors of B and does one broadcast-FMA per accumulator. Ragged edges
// get their own specializations (1...MR rows, one or two vectors); a ragged last column
// panel of at most 8 columns goes (Float) to a "narrow" kernel that runs a vector down
// the A panel instead, so a 100-wide C does not pay for 128 columns.
//
// Packing absorbs the transposes: operands stored along the panel direction are copied
// with vector loads, the others are transposed 16×16 (8×8 for Double) in registers. So all
// four transpose combinations run the same kernels at about the same speed. The packing
// buffers live in a per-thread workspace that is reused from call to call.
//
// Determinism: every element of C is computed the same way whatever tile or kernel holds
// it: for each depth block, in order, a fused multiply-add chain over p starting from zero,
// then `C = s` (first block, not accumulating) or `C = C + s`. The depth blocks depend on k
// only, so results are bit-identical across calls and across any split of C (which is what
// makes `gemmParallel` return the same bits as `gemm`).

/// Per-type vector operations the generic kernel is written in. Each witness is a concrete
/// SIMD operation, so the specialized kernel compiles to plain vector instructions.
protocol GEMMScalar: BinaryFloatingPoint {
    associatedtype Vec
    /// Lanes per vector (a 512-bit vector: 16 floats or 8 doubles).
    static var vectorWidth: Int { get }
    /// Cache blocking: depth (KC), rows of A (MC) and columns of B (NC) per packed block.
    static var kcBlock: Int { get }
    static var mcBlock: Int { get }
    static var ncBlock: Int { get }
    static func vzero() -> Vec
    static func vload(_ p: UnsafePointer<Self>) -> Vec
    static func vstore(_ v: Vec, _ p: UnsafeMutablePointer<Self>)
    /// `acc + a * b` with one rounding (fused multiply-add, `a` broadcast).
    static func vfma(_ acc: Vec, _ a: Self, _ b: Vec) -> Vec
    static func vadd(_ x: Vec, _ y: Vec) -> Vec
    /// Transposes a W×W block (see `gemmTranspose16x16`), used to pack the operands stored
    /// across the panel direction (A not transposed, B transposed).
    static func transposeBlock(_ src: UnsafePointer<Self>, _ ld: Int, rows: Int,
                               _ dst: UnsafeMutablePointer<Self>, _ dstStride: Int, count: Int)
    /// Copies `count` contiguous values with the widest vectors that fit.
    static func copy(_ src: UnsafePointer<Self>, _ dst: UnsafeMutablePointer<Self>, count: Int)
}

extension Float: GEMMScalar {
    typealias Vec = SIMD16<Float>
    @inline(__always) static var vectorWidth: Int { 16 }
    @inline(__always) static var kcBlock: Int { 256 }
    @inline(__always) static var mcBlock: Int { 144 }
    @inline(__always) static var ncBlock: Int { 4096 }
    @inline(__always) static func vzero() -> Vec { Vec() }
    @inline(__always) static func vload(_ p: UnsafePointer<Float>) -> Vec {
        UnsafeRawPointer(p).loadUnaligned(as: Vec.self)
    }
    @inline(__always) static func vstore(_ v: Vec, _ p: UnsafeMutablePointer<Float>) {
        UnsafeMutableRawPointer(p).storeBytes(of: v, as: Vec.self)
    }
    @inline(__always) static func vfma(_ acc: Vec, _ a: Float, _ b: Vec) -> Vec {
        acc.addingProduct(Vec(repeating: a), b)
    }
    @inline(__always) static func vadd(_ x: Vec, _ y: Vec) -> Vec { x + y }
    @inline(__always) static func transposeBlock(_ src: UnsafePointer<Float>, _ ld: Int, rows: Int,
                                                 _ dst: UnsafeMutablePointer<Float>, _ dstStride: Int, count: Int) {
        gemmTranspose16x16(src, ld, rows: rows, dst, dstStride, count: count)
    }
    @inline(__always) static func copy(_ src: UnsafePointer<Float>, _ dst: UnsafeMutablePointer<Float>, count: Int) {
        let s = UnsafeRawPointer(src), d = UnsafeMutableRawPointer(dst)
        var i = 0
        while count - i >= 16 {
            d.storeBytes(of: s.loadUnaligned(fromByteOffset: i &* 4, as: SIMD16<Float>.self), toByteOffset: i &* 4, as: SIMD16<Float>.self)
            i &+= 16
        }
        if count - i >= 8 {
            d.storeBytes(of: s.loadUnaligned(fromByteOffset: i &* 4, as: SIMD8<Float>.self), toByteOffset: i &* 4, as: SIMD8<Float>.self)
            i &+= 8
        }
        if count - i >= 4 {
            d.storeBytes(of: s.loadUnaligned(fromByteOffset: i &* 4, as: SIMD4<Float>.self), toByteOffset: i &* 4, as: SIMD4<Float>.self)
            i &+= 4
        }
        while i < count { dst[i] = src[i]; i &+= 1 }
    }
}

extension Double: GEMMScalar {
    typealias Vec = SIMD8<Double>
    @inline(__always) static var vectorWidth: Int { 8 }
    @inline(__always) static var kcBlock: Int { 192 }
    @inline(__always) static var mcBlock: Int { 96 }
    @inline(__always) static var ncBlock: Int { 2048 }
    @inline(__always) static func vzero() -> Vec { Vec() }
    @inline(__always) static func vload(_ p: UnsafePointer<Double>) -> Vec {
        UnsafeRawPointer(p).loadUnaligned(as: Vec.self)
    }
    @inline(__always) static func vstore(_ v: Vec, _ p: UnsafeMutablePointer<Double>) {
        UnsafeMutableRawPointer(p).storeBytes(of: v, as: Vec.self)
    }
    @inline(__always) static func vfma(_ acc: Vec, _ a: Double, _ b: Vec) -> Vec {
        acc.addingProduct(Vec(repeating: a), b)
    }
    @inline(__always) static func vadd(_ x: Vec, _ y: Vec) -> Vec { x + y }
    @inline(__always) static func transposeBlock(_ src: UnsafePointer<Double>, _ ld: Int, rows: Int,
                                                 _ dst: UnsafeMutablePointer<Double>, _ dstStride: Int, count: Int) {
        gemmTranspose8x8(src, ld, rows: rows, dst, dstStride, count: count)
    }
    @inline(__always) static func copy(_ src: UnsafePointer<Double>, _ dst: UnsafeMutablePointer<Double>, count: Int) {
        let s = UnsafeRawPointer(src), d = UnsafeMutableRawPointer(dst)
        var i = 0
        while count - i >= 8 {
            d.storeBytes(of: s.loadUnaligned(fromByteOffset: i &* 8, as: SIMD8<Double>.self), toByteOffset: i &* 8, as: SIMD8<Double>.self)
            i &+= 8
        }
        if count - i >= 4 {
            d.storeBytes(of: s.loadUnaligned(fromByteOffset: i &* 8, as: SIMD4<Double>.self), toByteOffset: i &* 8, as: SIMD4<Double>.self)
            i &+= 4
        }
        while i < count { dst[i] = src[i]; i &+= 1 }
    }
}

@inline(__always)
func gemmStoreRow<T: GEMMScalar>(_ p: UnsafeMutablePointer<T>, _ x0: T.Vec, _ x1: T.Vec,
                                 _ twoVectors: Bool, _ addToC: Bool) {
    if addToC {
        T.vstore(T.vadd(T.vload(p), x0), p)
        if twoVectors { T.vstore(T.vadd(T.vload(p + T.vectorWidth), x1), p + T.vectorWidth) }
    } else {
        T.vstore(x0, p)
        if twoVectors { T.vstore(x1, p + T.vectorWidth) }
    }
}

/// One MR×NR (or smaller) tile: `C[0..<rows, 0..<width] (+)= Apanel · Bpanel`, where the
/// A panel holds `rows` values every `mr` elements and the B panel `width` (`w` or `2w`)
/// values per depth step. `rows = R.count` and `twoVectors = V.two` are type parameters, so
/// each combination is its own specialization: straight-line code with `rows·(1 or 2)`
/// accumulators in registers (unused ones and their branches fold away).
@inline(never)
func gemmMicroKernel<T: GEMMScalar, R: GEMMTileCount, V: GEMMTileFlag>(
    _: R.Type, _: V.Type, kc: Int, mr: Int,
    a: UnsafePointer<T>, b: UnsafePointer<T>,
    c: UnsafeMutablePointer<T>, ldc: Int, addToC: Bool
) {
    let rows = R.count, twoVectors = V.two
    let w = T.vectorWidth
    let bStride = twoVectors ? 2 * w : w
    var c0x0 = T.vzero(), c0x1 = T.vzero()
    var c1x0 = T.vzero(), c1x1 = T.vzero()
    var c2x0 = T.vzero(), c2x1 = T.vzero()
    var c3x0 = T.vzero(), c3x1 = T.vzero()
    var c4x0 = T.vzero(), c4x1 = T.vzero()
    var c5x0 = T.vzero(), c5x1 = T.vzero()
    var c6x0 = T.vzero(), c6x1 = T.vzero()
    var c7x0 = T.vzero(), c7x1 = T.vzero()
    var c8x0 = T.vzero(), c8x1 = T.vzero()
    var c9x0 = T.vzero(), c9x1 = T.vzero()
    var c10x0 = T.vzero(), c10x1 = T.vzero()
    var c11x0 = T.vzero(), c11x1 = T.vzero()
    var ap = a, bp = b
    for _ in 0..<kc {
        let b0 = T.vload(bp)
        let b1 = twoVectors ? T.vload(bp + w) : b0
        c0x0 = T.vfma(c0x0, ap[0], b0); if twoVectors { c0x1 = T.vfma(c0x1, ap[0], b1) }
        if rows > 1 { c1x0 = T.vfma(c1x0, ap[1], b0); if twoVectors { c1x1 = T.vfma(c1x1, ap[1], b1) } }
        if rows > 2 { c2x0 = T.vfma(c2x0, ap[2], b0); if twoVectors { c2x1 = T.vfma(c2x1, ap[2], b1) } }
        if rows > 3 { c3x0 = T.vfma(c3x0, ap[3], b0); if twoVectors { c3x1 = T.vfma(c3x1, ap[3], b1) } }
        if rows > 4 { c4x0 = T.vfma(c4x0, ap[4], b0); if twoVectors { c4x1 = T.vfma(c4x1, ap[4], b1) } }
        if rows > 5 { c5x0 = T.vfma(c5x0, ap[5], b0); if twoVectors { c5x1 = T.vfma(c5x1, ap[5], b1) } }
        if rows > 6 { c6x0 = T.vfma(c6x0, ap[6], b0); if twoVectors { c6x1 = T.vfma(c6x1, ap[6], b1) } }
        if rows > 7 { c7x0 = T.vfma(c7x0, ap[7], b0); if twoVectors { c7x1 = T.vfma(c7x1, ap[7], b1) } }
        if rows > 8 { c8x0 = T.vfma(c8x0, ap[8], b0); if twoVectors { c8x1 = T.vfma(c8x1, ap[8], b1) } }
        if rows > 9 { c9x0 = T.vfma(c9x0, ap[9], b0); if twoVectors { c9x1 = T.vfma(c9x1, ap[9], b1) } }
        if rows > 10 { c10x0 = T.vfma(c10x0, ap[10], b0); if twoVectors { c10x1 = T.vfma(c10x1, ap[10], b1) } }
        if rows > 11 { c11x0 = T.vfma(c11x0, ap[11], b0); if twoVectors { c11x1 = T.vfma(c11x1, ap[11], b1) } }
        ap += mr
        bp += bStride
    }
    gemmStoreRow(c, c0x0, c0x1, twoVectors, addToC)
    if rows > 1 { gemmStoreRow(c + 1 * ldc, c1x0, c1x1, twoVectors, addToC) }
    if rows > 2 { gemmStoreRow(c + 2 * ldc, c2x0, c2x1, twoVectors, addToC) }
    if rows > 3 { gemmStoreRow(c + 3 * ldc, c3x0, c3x1, twoVectors, addToC) }
    if rows > 4 { gemmStoreRow(c + 4 * ldc, c4x0, c4x1, twoVectors, addToC) }
    if rows > 5 { gemmStoreRow(c + 5 * ldc, c5x0, c5x1, twoVectors, addToC) }
    if rows > 6 { gemmStoreRow(c + 6 * ldc, c6x0, c6x1, twoVectors, addToC) }
    if rows > 7 { gemmStoreRow(c + 7 * ldc, c7x0, c7x1, twoVectors, addToC) }
    if rows > 8 { gemmStoreRow(c + 8 * ldc, c8x0, c8x1, twoVectors, addToC) }
    if rows > 9 { gemmStoreRow(c + 9 * ldc, c9x0, c9x1, twoVectors, addToC) }
    if rows > 10 { gemmStoreRow(c + 10 * ldc, c10x0, c10x1, twoVectors, addToC) }
    if rows > 11 { gemmStoreRow(c + 11 * ldc, c11x0, c11x1, twoVectors, addToC) }
}

/// Compile-time tile sizes: the kernels take them as type parameters, so that every size
/// is its own specialization with straight-line code (rows or columns, one or two vectors
/// or A panels).
protocol GEMMTileCount { static var count: Int { get } }
protocol GEMMTileFlag { static var two: Bool { get } }
enum GEMMOne: GEMMTileFlag { @inline(__always) static var two: Bool { false } }
enum GEMMTwo: GEMMTileFlag { @inline(__always) static var two: Bool { true } }
enum GEMMCount1: GEMMTileCount { @inline(__always) static var count: Int { 1 } }
enum GEMMCount2: GEMMTileCount { @inline(__always) static var count: Int { 2 } }
enum GEMMCount3: GEMMTileCount { @inline(__always) static var count: Int { 3 } }
enum GEMMCount4: GEMMTileCount { @inline(__always) static var count: Int { 4 } }
enum GEMMCount5: GEMMTileCount { @inline(__always) static var count: Int { 5 } }
enum GEMMCount6: GEMMTileCount { @inline(__always) static var count: Int { 6 } }
enum GEMMCount7: GEMMTileCount { @inline(__always) static var count: Int { 7 } }
enum GEMMCount8: GEMMTileCount { @inline(__always) static var count: Int { 8 } }
enum GEMMCount9: GEMMTileCount { @inline(__always) static var count: Int { 9 } }
enum GEMMCount10: GEMMTileCount { @inline(__always) static var count: Int { 10 } }
enum GEMMCount11: GEMMTileCount { @inline(__always) static var count: Int { 11 } }
enum GEMMCount12: GEMMTileCount { @inline(__always) static var count: Int { 12 } }

/// The micro-kernel specialized for a tile of `rows` (1…12) rows and `V` vectors.
@inline(__always)
func gemmMicroTile<T: GEMMScalar, V: GEMMTileFlag>(_: V.Type, rows: Int, kc: Int, mr: Int,
                                                    a: UnsafePointer<T>, b: UnsafePointer<T>,
                                                    c: UnsafeMutablePointer<T>, ldc: Int, addToC: Bool) {
    switch rows {
    case 12: gemmMicroKernel(GEMMCount12.self, V.self, kc: kc, mr: mr, a: a, b: b, c: c, ldc: ldc, addToC: addToC)
    case 11: gemmMicroKernel(GEMMCount11.self, V.self, kc: kc, mr: mr, a: a, b: b, c: c, ldc: ldc, addToC: addToC)
    case 10: gemmMicroKernel(GEMMCount10.self, V.self, kc: kc, mr: mr, a: a, b: b, c: c, ldc: ldc, addToC: addToC)
    case 9: gemmMicroKernel(GEMMCount9.self, V.self, kc: kc, mr: mr, a: a, b: b, c: c, ldc: ldc, addToC: addToC)
    case 8: gemmMicroKernel(GEMMCount8.self, V.self, kc: kc, mr: mr, a: a, b: b, c: c, ldc: ldc, addToC: addToC)
    case 7: gemmMicroKernel(GEMMCount7.self, V.self, kc: kc, mr: mr, a: a, b: b, c: c, ldc: ldc, addToC: addToC)
    case 6: gemmMicroKernel(GEMMCount6.self, V.self, kc: kc, mr: mr, a: a, b: b, c: c, ldc: ldc, addToC: addToC)
    case 5: gemmMicroKernel(GEMMCount5.self, V.self, kc: kc, mr: mr, a: a, b: b, c: c, ldc: ldc, addToC: addToC)
    case 4: gemmMicroKernel(GEMMCount4.self, V.self, kc: kc, mr: mr, a: a, b: b, c: c, ldc: ldc, addToC: addToC)
    case 3: gemmMicroKernel(GEMMCount3.self, V.self, kc: kc, mr: mr, a: a, b: b, c: c, ldc: ldc, addToC: addToC)
    case 2: gemmMicroKernel(GEMMCount2.self, V.self, kc: kc, mr: mr, a: a, b: b, c: c, ldc: ldc, addToC: addToC)
    case 1: gemmMicroKernel(GEMMCount1.self, V.self, kc: kc, mr: mr, a: a, b: b, c: c, ldc: ldc, addToC: addToC)
    default: preconditionFailure("gemm: tile height \(rows) > MR")
    }
}

/// Dispatches one tile to the kernel specialized for its height; `cols` narrower than the
/// kernel's width go through `scratch` (an MR×NR tile) and are merged into C scalar-wise,
/// with the same additions as the vector path.
@inline(__always)
func gemmTile<T: GEMMScalar>(rows: Int, cols: Int, kc: Int, mr: Int,
                             a: UnsafePointer<T>, b: UnsafePointer<T>,
                             c: UnsafeMutablePointer<T>, ldc: Int, addToC: Bool,
                             scratch: UnsafeMutablePointer<T>) {
    let w = T.vectorWidth
    let two = cols > w
    let full = cols == w || cols == 2 * w
    let dst = full ? c : scratch
    let dstLd = full ? ldc : 2 * w
    let dstAdd = full ? addToC : false
    if two {
        gemmMicroTile(GEMMTwo.self, rows: rows, kc: kc, mr: mr, a: a, b: b, c: dst, ldc: dstLd, addToC: dstAdd)
    } else {
        gemmMicroTile(GEMMOne.self, rows: rows, kc: kc, mr: mr, a: a, b: b, c: dst, ldc: dstLd, addToC: dstAdd)
    }
    if !full {
        for r in 0..<rows {
            let s = scratch + r * dstLd
            let d = c + r * ldc
            if addToC {
                for j in 0..<cols { d[j] = d[j] + s[j] }
            } else {
                for j in 0..<cols { d[j] = s[j] }
            }
        }
    }
}

/// Packs op(B)[pc..<pc+kc, jc..<jc+nc] into NR-wide panels (p-major). The last panel is
/// `w` wide when it holds at most `w` columns, else `2w`; padding columns are zero.
@inline(__always)
func gemmPackB<T: GEMMScalar>(transB: Bool, b: UnsafePointer<T>, ldb: Int,
                              pc: Int, kc: Int, jc: Int, nc: Int, nr: Int,
                              into dst: UnsafeMutablePointer<T>) {
    let w = T.vectorWidth
    var jr = 0
    while jr < nc {
        let cols = min(nr, nc - jr)
        let stride = cols > w ? nr : w
        let panel = dst + jr * kc
        if !transB {
            // op(B)[p, j] = b[p * ldb + j]: each depth step is a contiguous run of `cols`.
            var src = b + pc * ldb + jc + jr
            var d = panel
            if cols == nr {
                for _ in 0..<kc {
                    T.vstore(T.vload(src), d)
                    T.vstore(T.vload(src + w), d + w)
                    src += ldb; d += nr
                }
            } else if cols == w {
                for _ in 0..<kc {
                    T.vstore(T.vload(src), d)
                    src += ldb; d += w
                }
            } else {
                // A ragged last panel: zero the padding, then copy the columns over it.
                for _ in 0..<kc {
                    T.vstore(T.vzero(), d)
                    if stride > w { T.vstore(T.vzero(), d + w) }
                    T.copy(src, d, count: cols)
                    src += ldb; d += stride
                }
            }
        } else {
            // op(B)[p, j] = b[j * ldb + p]: stored rows are panel columns; transpose W×W
            // blocks (missing columns come out as zeros), then the leftover depth steps.
            let src = b + (jc + jr) * ldb + pc
            var p = 0
            while p + w <= kc {
                var j0 = 0
                while j0 < stride {
                    T.transposeBlock(src + j0 * ldb + p, ldb, rows: min(w, cols - j0),
                                     panel + p * stride + j0, stride, count: w)
                    j0 += w
                }
                p += w
            }
            while p < kc {
                let d = panel + p * stride
                for j in 0..<cols { d[j] = src[j * ldb + p] }
                for j in cols..<stride { d[j] = 0 }
                p += 1
            }
        }
        jr += nr
    }
}

/// Packs op(A)[ic..<ic+mc, pc..<pc+kc] into MR-tall panels (p-major, MR values per step;
/// in the last panel only the first `rows` of each step are written and read).
@inline(__always)
func gemmPackA<T: GEMMScalar>(transA: Bool, a: UnsafePointer<T>, lda: Int,
                              ic: Int, mc: Int, pc: Int, kc: Int, mr: Int,
                              into dst: UnsafeMutablePointer<T>) {
    let w = T.vectorWidth
    var ir = 0
    while ir < mc {
        let rows = min(mr, mc - ir)
        let panel = dst + ir * kc
        if transA {
            // op(A)[i, p] = a[p * lda + i]: each depth step is a contiguous run of `rows`.
            var src = a + pc * lda + ic + ir
            var d = panel
            for _ in 0..<kc {
                T.copy(src, d, count: rows)
                src += lda; d += mr
            }
        } else {
            // op(A)[i, p] = a[i * lda + p]: transpose W×W blocks of the stored rows.
            let src = a + (ic + ir) * lda + pc
            var p = 0
            while p + w <= kc {
                var r0 = 0
                while r0 < rows {
                    let n = min(w, rows - r0)
                    T.transposeBlock(src + r0 * lda + p, lda, rows: n, panel + p * mr + r0, mr, count: n)
                    r0 += w
                }
                p += w
            }
            while p < kc {
                let d = panel + p * mr
                for r in 0..<rows { d[r] = src[r * lda + p] }
                p += 1
            }
        }
        ir += mr
    }
}

@inline(__always)
func gemmStorePrefix(_ v: SIMD16<Float>, _ p: UnsafeMutablePointer<Float>, _ count: Int) {
    let raw = UnsafeMutableRawPointer(p)
    if count == 16 { raw.storeBytes(of: v, as: SIMD16<Float>.self); return }
    var i = 0
    if count >= 8 {
        raw.storeBytes(of: v.lowHalf, as: SIMD8<Float>.self)
        i = 8
        if count >= 12 { raw.storeBytes(of: v.highHalf.lowHalf, toByteOffset: 32, as: SIMD4<Float>.self); i = 12 }
    } else if count >= 4 {
        raw.storeBytes(of: v.lowHalf.lowHalf, as: SIMD4<Float>.self)
        i = 4
    }
    while i < count { p[i] = v[i]; i += 1 }
}

@inline(__always)
func gemmStorePrefix(_ v: SIMD8<Double>, _ p: UnsafeMutablePointer<Double>, _ count: Int) {
    let raw = UnsafeMutableRawPointer(p)
    if count == 8 { raw.storeBytes(of: v, as: SIMD8<Double>.self); return }
    var i = 0
    if count >= 4 { raw.storeBytes(of: v.lowHalf, as: SIMD4<Double>.self); i = 4 }
    while i < count { p[i] = v[i]; i += 1 }
}

/// Transposes a 16×16 block: row r (r < rows, else zeros) is `16` values at `src + r * ld`;
/// column p is written as `count` values at `dst + p * dstStride`. 4 rounds of an even/odd
/// unshuffle over row pairs (each a two-source permute) rotate the element index by
/// 4 bits, i.e. swap the row and column index.
@inline(__always)
func gemmTranspose16x16(_ src: UnsafePointer<Float>, _ ld: Int, rows: Int,
    _ dst: UnsafeMutablePointer<Float>, _ dstStride: Int, count: Int) {
    typealias V = SIMD16<Float>
    @inline(__always) func row(_ r: Int) -> V {
        r < rows ? UnsafeRawPointer(src + r &* ld).loadUnaligned(as: V.self) : V()
    }
    @inline(__always) func even(_ a: V, _ b: V) -> V { V(lowHalf: a.evenHalf, highHalf: b.evenHalf) }
    @inline(__always) func odd(_ a: V, _ b: V) -> V { V(lowHalf: a.oddHalf, highHalf: b.oddHalf) }
    var x0 = row(0), x1 = row(1), x2 = row(2), x3 = row(3)
    var x4 = row(4), x5 = row(5), x6 = row(6), x7 = row(7)
    var x8 = row(8), x9 = row(9), x10 = row(10), x11 = row(11)
    var x12 = row(12), x13 = row(13), x14 = row(14), x15 = row(15)
    for _ in 0..<4 {
        (x0, x1, x2, x3, x4, x5, x6, x7, x8, x9, x10, x11, x12, x13, x14, x15) = (
            even(x0, x1), even(x2, x3), even(x4, x5), even(x6, x7),
            even(x8, x9), even(x10, x11), even(x12, x13), even(x14, x15),
            odd(x0, x1), odd(x2, x3), odd(x4, x5), odd(x6, x7),
            odd(x8, x9), odd(x10, x11), odd(x12, x13), odd(x14, x15))
    }
    gemmStorePrefix(x0, dst + 0 &* dstStride, count)
    gemmStorePrefix(x1, dst + 1 &* dstStride, count)
    gemmStorePrefix(x2, dst + 2 &* dstStride, count)
    gemmStorePrefix(x3, dst + 3 &* dstStride, count)
    gemmStorePrefix(x4, dst + 4 &* dstStride, count)
    gemmStorePrefix(x5, dst + 5 &* dstStride, count)
    gemmStorePrefix(x6, dst + 6 &* dstStride, count)
    gemmStorePrefix(x7, dst + 7 &* dstStride, count)
    gemmStorePrefix(x8, dst + 8 &* dstStride, count)
    gemmStorePrefix(x9, dst + 9 &* dstStride, count)
    gemmStorePrefix(x10, dst + 10 &* dstStride, count)
    gemmStorePrefix(x11, dst + 11 &* dstStride, count)
    gemmStorePrefix(x12, dst + 12 &* dstStride, count)
    gemmStorePrefix(x13, dst + 13 &* dstStride, count)
    gemmStorePrefix(x14, dst + 14 &* dstStride, count)
    gemmStorePrefix(x15, dst + 15 &* dstStride, count)
}

/// Transposes a 8×8 block: row r (r < rows, else zeros) is `8` values at `src + r * ld`;
/// column p is written as `count` values at `dst + p * dstStride`. 3 rounds of an even/odd
/// unshuffle over row pairs (each a two-source permute) rotate the element index by
/// 3 bits, i.e. swap the row and column index.
@inline(__always)
func gemmTranspose8x8(_ src: UnsafePointer<Double>, _ ld: Int, rows: Int,
    _ dst: UnsafeMutablePointer<Double>, _ dstStride: Int, count: Int) {
    typealias V = SIMD8<Double>
    @inline(__always) func row(_ r: Int) -> V {
        r < rows ? UnsafeRawPointer(src + r &* ld).loadUnaligned(as: V.self) : V()
    }
    @inline(__always) func even(_ a: V, _ b: V) -> V { V(lowHalf: a.evenHalf, highHalf: b.evenHalf) }
    @inline(__always) func odd(_ a: V, _ b: V) -> V { V(lowHalf: a.oddHalf, highHalf: b.oddHalf) }
    var x0 = row(0), x1 = row(1), x2 = row(2), x3 = row(3)
    var x4 = row(4), x5 = row(5), x6 = row(6), x7 = row(7)
    for _ in 0..<3 {
        (x0, x1, x2, x3, x4, x5, x6, x7) = (
            even(x0, x1), even(x2, x3), even(x4, x5), even(x6, x7),
            odd(x0, x1), odd(x2, x3), odd(x4, x5), odd(x6, x7))
    }
    gemmStorePrefix(x0, dst + 0 &* dstStride, count)
    gemmStorePrefix(x1, dst + 1 &* dstStride, count)
    gemmStorePrefix(x2, dst + 2 &* dstStride, count)
    gemmStorePrefix(x3, dst + 3 &* dstStride, count)
    gemmStorePrefix(x4, dst + 4 &* dstStride, count)
    gemmStorePrefix(x5, dst + 5 &* dstStride, count)
    gemmStorePrefix(x6, dst + 6 &* dstStride, count)
    gemmStorePrefix(x7, dst + 7 &* dstStride, count)
}


/// The narrow last column panel (at most 8 columns), computed the other way round:
/// one vector runs down the `mr` rows of a packed A panel (lanes past the panel's rows are
/// ignored) and each column's B value is broadcast, so a 4-column tail costs 4 FMAs per depth
/// step instead of the `mr` a row-broadcast kernel spends on it. Two A panels are done at once
/// (`P.two`) to keep enough independent FMA chains in flight. Each element still gets the same
/// FMA chain over p from zero, so results match the other kernels bit for bit. Reads up to
/// `vectorWidth - mr` values past the A panel (the pack buffer keeps zeroed slack for that).
@inline(never)
func gemmNarrowKernel<T: GEMMScalar, C: GEMMTileCount, P: GEMMTileFlag>(
    _: C.Type, _: P.Type, rows0: Int, rows1: Int, kc: Int, mr: Int,
    a: UnsafePointer<T>, b: UnsafePointer<T>, bStride: Int,
    c: UnsafeMutablePointer<T>, ldc: Int, addToC: Bool, scratch: UnsafeMutablePointer<T>
) {
    let cols = C.count, two = P.two
    var u0 = T.vzero(), v0 = T.vzero()
    var u1 = T.vzero(), v1 = T.vzero()
    var u2 = T.vzero(), v2 = T.vzero()
    var u3 = T.vzero(), v3 = T.vzero()
    var u4 = T.vzero(), v4 = T.vzero()
    var u5 = T.vzero(), v5 = T.vzero()
    var u6 = T.vzero(), v6 = T.vzero()
    var u7 = T.vzero(), v7 = T.vzero()
    var ap = a, bp = b
    let panel1 = mr * kc
    for _ in 0..<kc {
        let x = T.vload(ap)
        let y = two ? T.vload(ap + panel1) : x
        u0 = T.vfma(u0, bp[0], x); if two { v0 = T.vfma(v0, bp[0], y) }
        if cols > 1 { u1 = T.vfma(u1, bp[1], x); if two { v1 = T.vfma(v1, bp[1], y) } }
        if cols > 2 { u2 = T.vfma(u2, bp[2], x); if two { v2 = T.vfma(v2, bp[2], y) } }
        if cols > 3 { u3 = T.vfma(u3, bp[3], x); if two { v3 = T.vfma(v3, bp[3], y) } }
        if cols > 4 { u4 = T.vfma(u4, bp[4], x); if two { v4 = T.vfma(v4, bp[4], y) } }
        if cols > 5 { u5 = T.vfma(u5, bp[5], x); if two { v5 = T.vfma(v5, bp[5], y) } }
        if cols > 6 { u6 = T.vfma(u6, bp[6], x); if two { v6 = T.vfma(v6, bp[6], y) } }
        if cols > 7 { u7 = T.vfma(u7, bp[7], x); if two { v7 = T.vfma(v7, bp[7], y) } }
        ap += mr
        bp += bStride
    }
    gemmStoreColumns(c, ldc, rows0, addToC, scratch, u0, u1, u2, u3, u4, u5, u6, u7, count: cols)
    if two { gemmStoreColumns(c + mr * ldc, ldc, rows1, addToC, scratch, v0, v1, v2, v3, v4, v5, v6, v7, count: cols) }
}

/// Writes column vectors (lane r = row r) into the first `count` columns of a C tile,
/// through the scratch tile `t` (the same additions as the vector path).
@inline(__always)
func gemmStoreColumns<T: GEMMScalar>(_ c: UnsafeMutablePointer<T>, _ ldc: Int, _ rows: Int, _ addToC: Bool,
    _ t: UnsafeMutablePointer<T>,
    _ x0: T.Vec, _ x1: T.Vec, _ x2: T.Vec, _ x3: T.Vec, _ x4: T.Vec, _ x5: T.Vec, _ x6: T.Vec, _ x7: T.Vec, count: Int) {
    let w = T.vectorWidth
    T.vstore(x0, t + 0 * w)
    if count > 1 { T.vstore(x1, t + 1 * w) }
    if count > 2 { T.vstore(x2, t + 2 * w) }
    if count > 3 { T.vstore(x3, t + 3 * w) }
    if count > 4 { T.vstore(x4, t + 4 * w) }
    if count > 5 { T.vstore(x5, t + 5 * w) }
    if count > 6 { T.vstore(x6, t + 6 * w) }
    if count > 7 { T.vstore(x7, t + 7 * w) }
    for r in 0..<rows {
        let row = c + r * ldc
        if addToC {
            for j in 0..<count { row[j] = row[j] + t[j * w + r] }
        } else {
            for j in 0..<count { row[j] = t[j * w + r] }
        }
    }
}

/// Dispatches the narrow tail (`cols` ≤ 8) for one or two A panels.
@inline(__always)
func gemmNarrowTile<T: GEMMScalar>(cols: Int, twoPanels: Bool, rows0: Int, rows1: Int, kc: Int, mr: Int,
    a: UnsafePointer<T>, b: UnsafePointer<T>, bStride: Int,
    c: UnsafeMutablePointer<T>, ldc: Int, addToC: Bool, scratch: UnsafeMutablePointer<T>) {
    if twoPanels {
        gemmNarrowTile(GEMMTwo.self, cols: cols, rows0: rows0, rows1: rows1, kc: kc, mr: mr, a: a, b: b, bStride: bStride,
                       c: c, ldc: ldc, addToC: addToC, scratch: scratch)
    } else {
        gemmNarrowTile(GEMMOne.self, cols: cols, rows0: rows0, rows1: rows1, kc: kc, mr: mr, a: a, b: b, bStride: bStride,
                       c: c, ldc: ldc, addToC: addToC, scratch: scratch)
    }
}

@inline(__always)
func gemmNarrowTile<T: GEMMScalar, P: GEMMTileFlag>(_: P.Type, cols: Int, rows0: Int, rows1: Int, kc: Int, mr: Int,
    a: UnsafePointer<T>, b: UnsafePointer<T>, bStride: Int,
    c: UnsafeMutablePointer<T>, ldc: Int, addToC: Bool, scratch: UnsafeMutablePointer<T>) {
    switch cols {
    case 1: gemmNarrowKernel(GEMMCount1.self, P.self, rows0: rows0, rows1: rows1, kc: kc, mr: mr, a: a, b: b, bStride: bStride, c: c, ldc: ldc, addToC: addToC, scratch: scratch)
    case 2: gemmNarrowKernel(GEMMCount2.self, P.self, rows0: rows0, rows1: rows1, kc: kc, mr: mr, a: a, b: b, bStride: bStride, c: c, ldc: ldc, addToC: addToC, scratch: scratch)
    case 3: gemmNarrowKernel(GEMMCount3.self, P.self, rows0: rows0, rows1: rows1, kc: kc, mr: mr, a: a, b: b, bStride: bStride, c: c, ldc: ldc, addToC: addToC, scratch: scratch)
    case 4: gemmNarrowKernel(GEMMCount4.self, P.self, rows0: rows0, rows1: rows1, kc: kc, mr: mr, a: a, b: b, bStride: bStride, c: c, ldc: ldc, addToC: addToC, scratch: scratch)
    case 5: gemmNarrowKernel(GEMMCount5.self, P.self, rows0: rows0, rows1: rows1, kc: kc, mr: mr, a: a, b: b, bStride: bStride, c: c, ldc: ldc, addToC: addToC, scratch: scratch)
    case 6: gemmNarrowKernel(GEMMCount6.self, P.self, rows0: rows0, rows1: rows1, kc: kc, mr: mr, a: a, b: b, bStride: bStride, c: c, ldc: ldc, addToC: addToC, scratch: scratch)
    case 7: gemmNarrowKernel(GEMMCount7.self, P.self, rows0: rows0, rows1: rows1, kc: kc, mr: mr, a: a, b: b, bStride: bStride, c: c, ldc: ldc, addToC: addToC, scratch: scratch)
    case 8: gemmNarrowKernel(GEMMCount8.self, P.self, rows0: rows0, rows1: rows1, kc: kc, mr: mr, a: a, b: b, bStride: bStride, c: c, ldc: ldc, addToC: addToC, scratch: scratch)
    default: preconditionFailure("gemm: narrow tail of \(cols) columns")
    }
}


let gemmNarrowMax = 8

// MARK: Workspace

/// Each thread keeps one packing buffer, grown on demand and freed when the thread exits,
/// so a call allocates nothing once the buffer is large enough.
private let gemmWorkspaceKey: pthread_key_t = {
    var key = pthread_key_t()
    let rc = pthread_key_create(&key) { p in free(p) }
    precondition(rc == 0, "gemm: pthread_key_create failed")
    return key
}()

/// Layout: a 64-byte header holding the usable size, then the data (64-byte aligned).
@inline(__always)
func gemmWorkspace(bytes: Int) -> UnsafeMutableRawPointer {
    let header = 64
    if let block = pthread_getspecific(gemmWorkspaceKey) {
        if block.load(as: Int.self) >= bytes { return block + header }
        free(block)
        pthread_setspecific(gemmWorkspaceKey, nil)
    }
    let size = max(bytes, 1 << 16) + (bytes >> 2)
    var raw: UnsafeMutableRawPointer? = nil
    guard posix_memalign(&raw, 64, size + header) == 0, let block = raw else {
        fatalError("gemm: cannot allocate \(size) bytes of workspace")
    }
    block.storeBytes(of: size, as: Int.self)
    pthread_setspecific(gemmWorkspaceKey, block)
    return block + header
}

// MARK: Driver

@inline(__always)
func gemmRoundUp(_ x: Int, _ to: Int) -> Int { (x + to - 1) / to * to }

@inline(never)
func gemmBlocked<T: GEMMScalar>(
    transA: Bool, transB: Bool, m: Int, n: Int, k: Int,
    a: UnsafePointer<T>, lda: Int, b: UnsafePointer<T>, ldb: Int,
    c: UnsafeMutablePointer<T>, ldc: Int, accumulate: Bool, tiling: GEMMTiling
) {
    precondition(m >= 0 && n >= 0 && k >= 0, "gemm: negative dimension")
    if m == 0 || n == 0 { return }
    if k == 0 {
        if !accumulate {
            for i in 0..<m { (c + i * ldc).update(repeating: 0, count: n) }
        }
        return
    }
    let w = T.vectorWidth, mr = tiling.mr, nr = tiling.vectors * w
    // Depth blocks of near-equal size, a function of k alone (see "Determinism" above).
    let kcMax = gemmDepthBlockSize(k: k, kcBlock: T.kcBlock)
    let mcMax = min(T.mcBlock, gemmRoundUp(m, mr))
    let ncMax = min(T.ncBlock, gemmRoundUp(n, nr))
    let bElems = gemmRoundUp(ncMax, nr) * kcMax
    // A panels get `w` elements of zeroed slack: the narrow-tail kernel reads a full vector
    // at each step of an `mr`-tall panel.
    let aElems = gemmRoundUp(mcMax, mr) * kcMax + w
    let sElems = GEMMTiling.wide.mr * 2 * w   // an edge tile of up to 2 vectors (see gemmTile)
    let stride = MemoryLayout<T>.stride
    let aOffset = gemmRoundUp(bElems * stride, 64)
    let sOffset = aOffset + gemmRoundUp(aElems * stride, 64)
    let ws = gemmWorkspace(bytes: sOffset + sElems * stride)
    let bPack = (ws).assumingMemoryBound(to: T.self)
    let aPack = (ws + aOffset).assumingMemoryBound(to: T.self)
    let scratch = (ws + sOffset).assumingMemoryBound(to: T.self)

    var jc = 0
    while jc < n {
        let nc = min(ncMax, n - jc)
        // Columns [0, ncWide) go to the row-broadcast kernels (two-vector panels, then a
        // one-vector panel if what is left fits one). When a vector spans a whole A panel
        // (Float), up to `gemmNarrowMax` ragged columns at the end go to the narrow kernel
        // instead, alone or after one full one-vector panel.
        let ragged = nc % nr
        var ncWide = nc
        if w >= mr {
            if ragged > 0 && ragged <= gemmNarrowMax {
                ncWide = nc - ragged
            } else if ragged > w && ragged <= w + gemmNarrowMax {
                ncWide = nc - ragged + w
            }
        }
        var pc = 0
        while pc < k {
            let kc = min(kcMax, k - pc)
            let addToC = accumulate || pc > 0
            gemmPackB(transB: transB, b: b, ldb: ldb, pc: pc, kc: kc, jc: jc, nc: ncWide, nr: nr, into: bPack)
            if ncWide < nc {
                gemmPackB(transB: transB, b: b, ldb: ldb, pc: pc, kc: kc, jc: jc + ncWide, nc: nc - ncWide, nr: nr,
                          into: bPack + ncWide * kc)
            }
            var ic = 0
            while ic < m {
                let mc = min(mcMax, m - ic)
                gemmPackA(transA: transA, a: a, lda: lda, ic: ic, mc: mc, pc: pc, kc: kc, mr: mr, into: aPack)
                (aPack + gemmRoundUp(mc, mr) * kc).update(repeating: 0, count: w)
                var ir = 0
                while ir < mc {
                    let rows = min(mr, mc - ir)
                    let aPanel = UnsafePointer(aPack + ir * kc)
                    var jr = 0
                    while jr < ncWide {
                        let cols = min(nr, ncWide - jr)
                        gemmTile(rows: rows, cols: cols, kc: kc, mr: mr,
                                 a: aPanel, b: UnsafePointer(bPack + jr * kc),
                                 c: c + (ic + ir) * ldc + jc + jr, ldc: ldc, addToC: addToC,
                                 scratch: scratch)
                        jr += nr
                    }
                    ir += mr
                }
                if ncWide < nc {
                    // The narrow last panel, two A panels at a time.
                    ir = 0
                    while ir < mc {
                        let rows0 = min(mr, mc - ir)
                        let rows1 = min(mr, max(0, mc - ir - mr))
                        gemmNarrowTile(cols: nc - ncWide, twoPanels: rows1 > 0, rows0: rows0, rows1: rows1,
                                       kc: kc, mr: mr, a: UnsafePointer(aPack + ir * kc),
                                       b: UnsafePointer(bPack + ncWide * kc), bStride: w,
                                       c: c + (ic + ir) * ldc + jc + ncWide, ldc: ldc, addToC: addToC,
                                       scratch: scratch)
                        ir += 2 * mr
                    }
                }
                ic += mc
            }
            pc += kc
        }
        jc += nc
    }
}

// MARK: - Two-thread entry point

/// `T.gemm` with the product split over `threads` threads (`DispatchQueue.concurrentPerform`)
/// when it is large enough to pay for it: C is cut into bands along its longer side, each band
/// computed by `T.gemm` on its own thread (each thread packs into its own workspace).
/// Because every element of C is computed by the same sequence of operations whatever tile
/// or band holds it, the result is bit-identical to `T.gemm` for any number of threads.
/// Bands never overlap, so `c` must not alias `a` or `b` (as for `gemm`).
public func gemmParallel<T: GEMMKernels & Sendable>(
    transA: Bool, transB: Bool, m: Int, n: Int, k: Int,
    a: UnsafePointer<T>, lda: Int, b: UnsafePointer<T>, ldb: Int,
    c: UnsafeMutablePointer<T>, ldc: Int, accumulate: Bool, threads: Int = 2
) {
    // Bands are multiples of 96 rows or columns (a multiple of every tile size), and each
    // thread gets at least ~4 MFLOP; below that, threading costs more than it saves.
    let align = 96
    let flops = 2.0 * Double(m) * Double(n) * Double(k)
    let splitRows = m >= n
    let extent = splitRows ? m : n
    let maxBands = min(max(1, threads), extent / align, Int(flops / 4e6))
    if maxBands <= 1 {
        T.gemm(transA: transA, transB: transB, m: m, n: n, k: k, a: a, lda: lda, b: b, ldb: ldb,
               c: c, ldc: ldc, accumulate: accumulate)
        return
    }
    let band = (extent + maxBands - 1) / maxBands
    let bandSize = (band + align - 1) / align * align
    let bands = (extent + bandSize - 1) / bandSize
    // Plain addresses cross into the worker closures (pointers are not Sendable).
    let aBits = UInt(bitPattern: a), bBits = UInt(bitPattern: b), cBits = UInt(bitPattern: c)
    DispatchQueue.concurrentPerform(iterations: bands) { t in
        let lo = t * bandSize, hi = min(extent, lo + bandSize)
        let a = UnsafePointer<T>(bitPattern: aBits)!
        let b = UnsafePointer<T>(bitPattern: bBits)!
        let c = UnsafeMutablePointer<T>(bitPattern: cBits)!
        if splitRows {
            T.gemm(transA: transA, transB: transB, m: hi - lo, n: n, k: k,
                   a: transA ? a + lo : a + lo * lda, lda: lda, b: b, ldb: ldb,
                   c: c + lo * ldc, ldc: ldc, accumulate: accumulate)
        } else {
            T.gemm(transA: transA, transB: transB, m: m, n: hi - lo, k: k,
                   a: a, lda: lda, b: transB ? b + lo * ldb : b + lo, ldb: ldb,
                   c: c + lo, ldc: ldc, accumulate: accumulate)
        }
    }
}
