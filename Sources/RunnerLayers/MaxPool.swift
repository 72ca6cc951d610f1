/// maxpool: `x (N, C, H, W) → y (N, C, H', W')`, `H' = 1 + (H − pool_height)/stride` (likewise `W'`).
///
/// `y[n, c, i, j] = max_{p,q} x[n, c, i·stride + p, j·stride + q]` over the `ph × pw` window.
/// Backward: each `dout` entry goes to the FIRST maximum of its window in row-major order,
/// accumulated where windows overlap (the position is recomputed from the saved input, so
/// no index buffer is kept). Cost per sample: about `C·H'·W'·ph·pw` comparisons each way;
/// the common 2×2 stride-2 case has a dedicated loop. Planes are independent: a large batch
/// is split over `context.productThreads` threads (the same result). A non-integer output
/// size is rejected.
public final class MaxPool<T: Real>: Layer {
    public let kind = MaxPoolKind.name
    public let inputShape: [Int]
    public let outputShape: [Int]
    public let geometry: PoolGeometry
    public var needsInputGradient = true
    /// Its thread budget: the planes of a batch are spread over `productThreads`.
    public let context: ComputeContext
    private var input: Tensor<T>?
    private let output = Tensor<T>(shape: [0]), dx = Tensor<T>(shape: [0])

    public init(inputShape: [Int], height: Int, width: Int, stride: Int, context: ComputeContext = ComputeContext()) throws {
        self.context = context
        geometry = try MaxPool.geometry(inputShape: inputShape, height: height, width: width, stride: stride)
        self.inputShape = inputShape
        self.outputShape = [inputShape[0], geometry.outHeight, geometry.outWidth]
    }

    /// The shape rule (shared with `inferShapes`, which allocates nothing): the geometry of
    /// this pool over a `(C, H, W)` input, or the `ShapeError` saying why there is none.
    public static func geometry(inputShape: [Int], height: Int, width: Int, stride: Int) throws -> PoolGeometry {
        guard inputShape.count == 3, inputShape.allSatisfy({ $0 > 0 }) else {
            throw ShapeError("maxpool needs a (C, H, W) input, got \(inputShape)")
        }
        guard height > 0, width > 0, stride > 0 else {
            throw ShapeError("maxpool needs a positive window and stride, got \(height)×\(width) stride \(stride)")
        }
        let (h, w) = (inputShape[1], inputShape[2])
        func check(_ dim: String, _ n: Int, _ k: Int) throws {
            if ConvGeometry.outputSize(input: n, kernel: k, stride: stride, pad: 0) != nil { return }
            let why = n < k ? "the window is larger than the input"
                : "1 + (\(n) − \(k))/\(stride) is not an integer"
            throw ShapeError("maxpool: input \(inputShape) with a \(height)×\(width) window (stride \(stride)) gives no valid output \(dim): \(why)")
        }
        try check("height", h, height)
        try check("width", w, width)
        return PoolGeometry(height: h, width: w, poolHeight: height, poolWidth: width, stride: stride)
    }

    /// About one comparison per window element, forward and backward.
    public static func flopsPerSample(outputShape: [Int], _ g: PoolGeometry) -> Int {
        2 * outputShape.reduce(1, *) * g.poolHeight * g.poolWidth
    }

    public var flopsPerSample: Int { MaxPool.flopsPerSample(outputShape: outputShape, geometry) }

    public func forward(_ x: Tensor<T>, mode: Mode) -> Tensor<T> {
        let n = x.rows
        precondition(x.count == n * inputShape.reduce(1, *), "maxpool: input \(x.shape) does not match \(inputShape)")
        input = x
        output.resize([n] + outputShape)
        let (inPlane, outPlane) = (geometry.height * geometry.width, geometry.outHeight * geometry.outWidth)
        let (xp, yp) = (x.data, output.data)
        forEachRange(n * inputShape[0], threads: context.productThreads, minimum: (1 << 16) / max(inPlane, 1)) { r in
            maxpoolForward(geometry, planes: r.count, x: xp + r.lowerBound * inPlane, y: yp + r.lowerBound * outPlane)
        }
        return output
    }

    public func backward(_ dout: Tensor<T>) -> Tensor<T>? {
        guard needsInputGradient else { return nil }
        guard let x = input else { preconditionFailure("maxpool: backward before forward") }
        dx.resize(x.shape)
        let (inPlane, outPlane) = (geometry.height * geometry.width, geometry.outHeight * geometry.outWidth)
        let (xp, gp, dp) = (x.data, dout.data, dx.data)
        forEachRange(x.rows * inputShape[0], threads: context.productThreads, minimum: (1 << 16) / max(inPlane, 1)) { r in
            maxpoolBackward(geometry, planes: r.count, x: xp + r.lowerBound * inPlane, dout: gp + r.lowerBound * outPlane,
                            dx: dp + r.lowerBound * inPlane)
        }
        return dx
    }
}

/// maxpool in a layer list: `{"type": "maxpool", "size": 2}` (window `height × width`,
/// each defaulting to `size`; stride defaulting to `size`).
public struct MaxPoolKind: LayerKind {
    public static let name = "maxpool"
    public static let fields = [
        LayerField("size", .int(min: 1), 2, "square window"),
        LayerField("height", .optionalInt(min: 1), nil, "window height (default: size)"),
        LayerField("width", .optionalInt(min: 1), nil, "window width (default: size)"),
        LayerField("stride", .optionalInt(min: 1), nil, "stride (default: size)"),
    ]
    public let height: Int, width: Int, stride: Int
    public init(height: Int, width: Int, stride: Int) { self.height = height; self.width = width; self.stride = stride }
    public init(_ a: LayerArguments) {
        let s = a.int("size")
        self.init(height: a.optionalInt("height") ?? s, width: a.optionalInt("width") ?? s, stride: a.optionalInt("stride") ?? s)
    }
    public func infer(_ input: LayerInput) throws -> LayerShape {
        let g = try MaxPool<Float>.geometry(inputShape: input.shape, height: height, width: width, stride: stride)
        let output = [input.shape[0], g.outHeight, g.outWidth]
        return LayerShape(outputShape: output, flopsPerSample: MaxPool<Float>.flopsPerSample(outputShape: output, g))
    }
    public func makeLayer<T: Real>(_ input: LayerInput, _ builder: inout LayerBuilder) throws -> any Layer<T> {
        try MaxPool<T>(inputShape: input.shape, height: height, width: width, stride: stride, context: builder.context)
    }
}

extension LayerSpec {
    public static func maxpool(height: Int, width: Int, stride: Int) -> LayerSpec {
        LayerSpec(MaxPoolKind(height: height, width: width, stride: stride))
    }
}
