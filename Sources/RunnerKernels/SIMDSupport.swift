/// Unaligned 16-lane loads and stores for the elementwise kernels. Each kernel runs a
/// SIMD16 main loop and a scalar tail that performs the very same operations in the same
/// order (no fused multiply-add contraction in either), so a value's result does not depend
/// on whether it fell in the vector part or the tail.

@inline(__always) func load16<T: Real>(_ p: UnsafePointer<T>, _ i: Int) -> SIMD16<T> {
    UnsafeRawPointer(p + i).loadUnaligned(as: SIMD16<T>.self)
}

@inline(__always) func load16<T: Real>(_ p: UnsafeMutablePointer<T>, _ i: Int) -> SIMD16<T> {
    UnsafeRawPointer(p + i).loadUnaligned(as: SIMD16<T>.self)
}

@inline(__always) func store16<T: Real>(_ v: SIMD16<T>, _ p: UnsafeMutablePointer<T>, _ i: Int) {
    UnsafeMutableRawPointer(p + i).storeBytes(of: v, as: SIMD16<T>.self)
}
