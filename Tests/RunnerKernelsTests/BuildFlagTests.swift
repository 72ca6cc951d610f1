import XCTest
import RunnerKernels

/// The build must target the CPU (`-target-cpu native` in Package.swift): without it,
/// Swift's SIMD types are split into scalar code and every kernel runs ~100× slower.
/// Not a timing test of our code: the margin between the two builds is two orders of
/// magnitude (here ~250 GFLOP/s with the flag, ~0.65 without), the threshold sits far
/// below the first and far above the second.
final class BuildFlagTests: XCTestCase {
    func testSIMDCompiledForThisCPU() {
        #if DEBUG
        // Debug builds are unoptimised by design; the check applies to release builds,
        // which is how the README runs the tests.
        #else
        let gflops = simdSanityGFLOPS()
        XCTAssertGreaterThan(gflops, 8, "SIMD FMA loop runs at \(gflops) GFLOP/s: the release build lacks -target-cpu (see Package.swift)")
        #endif
    }
}
