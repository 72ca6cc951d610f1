/// The element type of every tensor: `Float` for training, `Double` for gradient checks
/// (or a config with `"dtype": "float64"`).
///
/// A per-element loop is a generic function marked `@_specialize(where T == Float)` and
/// `@_specialize(where T == Double)`: both specialisations are compiled and the generic
/// entry point dispatches to them at run time, so callers generic over `T: Real` in any
/// module (layers, optimizers) run specialised code. (A plain generic loop called that way
/// runs through protocol witnesses, about 270× slower in a measurement here.) Only the
/// SGEMM micro-kernel pieces (`GEMMKernels`: per-type register blocking) and the optimizer
/// updates (`OptimizerKernels`: C loops) are still requirements each type implements.
public protocol Real: BinaryFloatingPoint, SIMDScalar, Sendable, Codable, LosslessStringConvertible,
    GEMMKernels, OptimizerKernels
{
    /// Name used in configs and output (`float32`, `float64`).
    static var dtypeName: String { get }
}

extension Float: Real {
    public static var dtypeName: String { "float32" }
}

extension Double: Real {
    public static var dtypeName: String { "float64" }
}
