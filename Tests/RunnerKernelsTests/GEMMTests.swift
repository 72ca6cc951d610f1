import XCTest
import RunnerKernels
import RunnerBench

/// The fast `gemm` kernels against `gemmReference`: odd and prime shapes that leave ragged
/// tiles on every side, empty products, all four transpose combinations, accumulate on and
/// off, and leading dimensions wider than the matrices (with the gaps checked untouched).
final class GEMMTests: XCTestCase {
    struct Shape { let m, n, k: Int }

    static let shapes: [Shape] = [
        Shape(m: 1, n: 1, k: 1),
        Shape(m: 0, n: 5, k: 3), Shape(m: 5, n: 0, k: 3), Shape(m: 5, n: 3, k: 0), Shape(m: 0, n: 0, k: 0),
        Shape(m: 1, n: 17, k: 2), Shape(m: 17, n: 1, k: 2), Shape(m: 2, n: 2, k: 31),
        Shape(m: 7, n: 13, k: 17),
        Shape(m: 12, n: 32, k: 16),   // exactly one Float tile
        Shape(m: 13, n: 33, k: 19),   // one past it in every direction
        Shape(m: 31, n: 37, k: 41),
        Shape(m: 67, n: 3, k: 129),
        Shape(m: 50, n: 50, k: 50),   // 32 + 16 + 2 columns
        Shape(m: 25, n: 56, k: 9),    // 32 + 16 + 8 columns
        Shape(m: 130, n: 257, k: 65),
        Shape(m: 29, n: 48, k: 601),  // several depth blocks, uneven
    ]

    /// Fills `count` values: integers in -4...4 (`exact`, so every product and partial sum is
    /// exact and any correct order gives the same bits) or uniform in [-1, 1).
    static func fill<T: BinaryFloatingPoint>(_ count: Int, _ rng: inout SeededGenerator, exact: Bool) -> [T] {
        (0..<count).map { _ in
            exact ? T(rng.int(below: 9) - 4) : T(rng.uniform() * 2 - 1)
        }
    }

    /// Runs one case and returns the worst error relative to the error scale of each element
    /// (`Σ|a||b|`, plus `|c|` when accumulating), or infinity for any difference at all with
    /// `exact` data; padding columns must be left untouched.
    func runCase<T: BinaryFloatingPoint & GEMMKernels>(
        _: T.Type, _ s: Shape, transA: Bool, transB: Bool, accumulate: Bool, exact: Bool,
        rng: inout SeededGenerator, file: StaticString = #filePath, line: UInt = #line
    ) -> Double {
        let (m, n, k) = (s.m, s.n, s.k)
        // Stored shapes with extra leading-dimension slack of 3, 5 and 2.
        let aRows = transA ? k : m, aCols = transA ? m : k
        let bRows = transB ? n : k, bCols = transB ? k : n
        let lda = aCols + 3, ldb = bCols + 5, ldc = n + 2
        let a: [T] = Self.fill(max(1, aRows * lda), &rng, exact: exact)
        let b: [T] = Self.fill(max(1, bRows * ldb), &rng, exact: exact)
        let c0: [T] = Self.fill(max(1, m * ldc), &rng, exact: exact)
        var fast = c0, ref = c0
        T.gemm(transA: transA, transB: transB, m: m, n: n, k: k, a: a, lda: lda, b: b, ldb: ldb,
               c: &fast, ldc: ldc, accumulate: accumulate)
        gemmReference(transA: transA, transB: transB, m: m, n: n, k: k, a: a, lda: lda, b: b, ldb: ldb,
                      c: &ref, ldc: ldc, accumulate: accumulate)
        var worst = 0.0
        for i in 0..<m {
            for j in 0..<ldc {
                let idx = i * ldc + j
                if j >= n {
                    XCTAssertEqual(fast[idx], c0[idx], "padding column written at (\(i), \(j))", file: file, line: line)
                    continue
                }
                if exact {
                    if fast[idx] != ref[idx] { worst = .infinity }
                    continue
                }
                var scale = accumulate ? abs(Double(c0[idx])) : 0
                for p in 0..<k {
                    let av = transA ? a[p * lda + i] : a[i * lda + p]
                    let bv = transB ? b[j * ldb + p] : b[p * ldb + j]
                    scale += abs(Double(av) * Double(bv))
                }
                let err = abs(Double(fast[idx]) - Double(ref[idx]))
                if err > 0 { worst = max(worst, scale > 0 ? err / scale : .infinity) }
            }
        }
        return worst
    }

    func checkAgainstReference<T: BinaryFloatingPoint & GEMMKernels>(_ t: T.Type, tolerance: Double, seed: UInt64) {
        var rng = SeededGenerator(seed: seed)
        for s in Self.shapes {
            for transA in [false, true] {
                for transB in [false, true] {
                    for accumulate in [false, true] {
                        let what = "\(T.self) \(s.m)×\(s.n)×\(s.k) transA=\(transA) transB=\(transB) accumulate=\(accumulate)"
                        let exactErr = runCase(t, s, transA: transA, transB: transB, accumulate: accumulate,
                                               exact: true, rng: &rng)
                        XCTAssertEqual(exactErr, 0, "integer data must match exactly: \(what)")
                        let err = runCase(t, s, transA: transA, transB: transB, accumulate: accumulate,
                                          exact: false, rng: &rng)
                        XCTAssertLessThanOrEqual(err, tolerance, what)
                    }
                }
            }
        }
    }

    func testFloatMatchesReference() {
        checkAgainstReference(Float.self, tolerance: 1e-5, seed: 11)
    }

    func testDoubleMatchesReference() {
        checkAgainstReference(Double.self, tolerance: 1e-12, seed: 12)
    }

    func testZeroDepthOverwritesOrKeeps() {
        let a: [Float] = [1], b: [Float] = [1]
        var c: [Float] = [5, 6, 7, 8, 9, 10]
        Float.gemm(transA: false, transB: false, m: 2, n: 2, k: 0, a: a, lda: 1, b: b, ldb: 2,
                   c: &c, ldc: 3, accumulate: true)
        XCTAssertEqual(c, [5, 6, 7, 8, 9, 10])
        Float.gemm(transA: false, transB: false, m: 2, n: 2, k: 0, a: a, lda: 1, b: b, ldb: 2,
                   c: &c, ldc: 3, accumulate: false)
        XCTAssertEqual(c, [0, 0, 7, 0, 0, 10])
    }

    /// Same inputs, same bits: repeated calls, any sub-block of C computed on its own, and
    /// `gemmParallel`, all agree exactly with one full `gemm`.
    func deterministic<T: BinaryFloatingPoint & GEMMKernels & Sendable>(_: T.Type, transA: Bool, transB: Bool) {
        var rng = SeededGenerator(seed: 99)
        let (m, n, k) = (203, 197, 301)
        let lda = transA ? m : k, ldb = transB ? k : n
        let a: [T] = Self.fill(m * k, &rng, exact: false)
        let b: [T] = Self.fill(k * n, &rng, exact: false)
        var full = [T](repeating: 0, count: m * n)
        var again = [T](repeating: 1, count: m * n)
        var parallel = [T](repeating: 2, count: m * n)
        T.gemm(transA: transA, transB: transB, m: m, n: n, k: k, a: a, lda: lda, b: b, ldb: ldb,
               c: &full, ldc: n, accumulate: false)
        T.gemm(transA: transA, transB: transB, m: m, n: n, k: k, a: a, lda: lda, b: b, ldb: ldb,
               c: &again, ldc: n, accumulate: false)
        XCTAssertEqual(full, again, "repeat call")
        gemmParallel(transA: transA, transB: transB, m: m, n: n, k: k, a: a, lda: lda, b: b, ldb: ldb,
                     c: &parallel, ldc: n, accumulate: false)
        XCTAssertEqual(full, parallel, "gemmParallel")

        // Sub-blocks at odd offsets, computed on their own into C's own storage: their tiles
        // (and which kernel handles each column) differ from the full product's.
        for (i0, j0, mb, nb) in [(5, 7, 50, 61), (13, 40, 37, 36), (1, 190, 202, 7)] {
            var sub = [T](repeating: 3, count: m * n)
            a.withUnsafeBufferPointer { ap in
                b.withUnsafeBufferPointer { bp in
                    sub.withUnsafeMutableBufferPointer { cp in
                        T.gemm(transA: transA, transB: transB, m: mb, n: nb, k: k,
                               a: transA ? ap.baseAddress! + i0 : ap.baseAddress! + i0 * lda, lda: lda,
                               b: transB ? bp.baseAddress! + j0 * ldb : bp.baseAddress! + j0, ldb: ldb,
                               c: cp.baseAddress! + i0 * n + j0, ldc: n, accumulate: false)
                    }
                }
            }
            blockCheck: for i in i0..<(i0 + mb) {
                for j in j0..<(j0 + nb) where sub[i * n + j] != full[i * n + j] {
                    XCTFail("sub-block \((i0, j0, mb, nb)) differs at (\(i), \(j)) transA=\(transA) transB=\(transB)")
                    break blockCheck
                }
            }
        }
    }

    func testDeterministicFloat() {
        for transA in [false, true] { for transB in [false, true] { deterministic(Float.self, transA: transA, transB: transB) } }
    }

    func testDeterministicDouble() {
        for transA in [false, true] { for transB in [false, true] { deterministic(Double.self, transA: transA, transB: transB) } }
    }

    /// The register tiles of every target (`GEMMTiling.wide`, 12 × 2 vectors, for AVX-512;
    /// `.narrow`, 6 × 1 vector, for AVX2 and NEON) give the same bits on ragged shapes, all
    /// transposes, with and without accumulation: a build for any target computes the same
    /// products. (Both tiles run here whatever this machine is; only their speed differs.)
    func testTilesAreBitIdentical() {
        var rng = SeededGenerator(seed: 123)
        let shapes = Self.shapes + [Shape(m: 203, n: 197, k: 301), Shape(m: 100, n: 3072, k: 100), Shape(m: 64, n: 27, k: 1024)]
        func check<T: BinaryFloatingPoint>(_: T.Type, _ run: (GEMMTiling, Bool, Bool, Shape, [T], [T], inout [T], Bool) -> Void) {
            for s in shapes {
                for transA in [false, true] {
                    for transB in [false, true] {
                        for accumulate in [false, true] {
                            let a: [T] = Self.fill(s.m * s.k, &rng, exact: false)
                            let b: [T] = Self.fill(s.k * s.n, &rng, exact: false)
                            let c0: [T] = Self.fill(s.m * s.n, &rng, exact: false)
                            var wide = c0, narrow = c0
                            run(.wide, transA, transB, s, a, b, &wide, accumulate)
                            run(.narrow, transA, transB, s, a, b, &narrow, accumulate)
                            XCTAssertEqual(wide.map { Double($0).bitPattern }, narrow.map { Double($0).bitPattern },
                                           "\(T.self) \(s) transA \(transA) transB \(transB) accumulate \(accumulate)")
                        }
                    }
                }
            }
        }
        check(Float.self) { t, ta, tb, s, a, b, c, acc in
            gemm(tiling: t, transA: ta, transB: tb, m: s.m, n: s.n, k: s.k, a: a, lda: ta ? s.m : s.k, b: b, ldb: tb ? s.k : s.n,
                 c: &c, ldc: s.n, accumulate: acc)
        }
        check(Double.self) { t, ta, tb, s, a, b, c, acc in
            gemm(tiling: t, transA: ta, transB: tb, m: s.m, n: s.n, k: s.k, a: a, lda: ta ? s.m : s.k, b: b, ldb: tb ? s.k : s.n,
                 c: &c, ldc: s.n, accumulate: acc)
        }
        XCTAssertTrue([GEMMTiling.wide, .narrow].contains(GEMMTiling.forTarget))
    }

    func testParallelMatchesReferenceWithAccumulate() {
        var rng = SeededGenerator(seed: 7)
        let (m, n, k) = (250, 130, 90)
        let a: [Float] = Self.fill(m * k, &rng, exact: true)
        let b: [Float] = Self.fill(n * k, &rng, exact: true)
        let c0: [Float] = Self.fill(m * n, &rng, exact: true)
        var fast = c0, ref = c0
        gemmParallel(transA: false, transB: true, m: m, n: n, k: k, a: a, lda: k, b: b, ldb: k,
                     c: &fast, ldc: n, accumulate: true)
        gemmReference(transA: false, transB: true, m: m, n: n, k: k, a: a, lda: k, b: b, ldb: k,
                      c: &ref, ldc: n, accumulate: true)
        XCTAssertEqual(fast, ref)
    }

    func testBenchmarkHelpersRun() {
        let r = benchmarkGEMM(shapes: [(m: 20, n: 30, k: 40, transA: true, transB: false),
                                       (m: 0, n: 3, k: 3, transA: false, transB: false)], minSeconds: 0.01)
        XCTAssertEqual(r.count, 2)
        XCTAssertEqual(r[0].label, "20x30x40 TN")
        XCTAssertGreaterThan(r[0].gflops, 0)
        XCTAssertGreaterThan(simdSanityGFLOPS(), 0)
    }
}
