/// The element type of every tensor: `Float` for training, `Double` for gradient checks
/// (or a config with `"dtype": "float64"`).
///
/// Every per-element loop lives in this module as a generic function and is reached
/// through one of the kernel protocols below. `Float` and `Double` conform by forwarding
/// to those functions, so the compiler specializes each loop for the concrete type here,
/// once. Layers and optimizers (other modules, generic over `T: Real`) call `T.kernel(...)`
/// and always land in specialized code; a generic loop compiled outside this module would
/// run through protocol witnesses and be 30–50× slower.
public protocol Real: BinaryFloatingPoint, SIMDScalar, Sendable, Codable, LosslessStringConvertible,
    GEMMKernels, ElementwiseKernels, NormKernels, LossKernels, OptimizerKernels, ConvKernels
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
