/// conv: `x (N, C, H, W) → y (N, F, H', W')`, `W (F, C, HH, WW)`, `b (F)`, `H' = 1 + (H + 2·pad − HH)/stride`.
///
/// Cross-correlation with zero padding:
/// `y[n, f, i, j] = b[f] + Σ_{c,p,q} W[f, c, p, q] · x[n, c, i·stride − pad + p, j·stride − pad + q]`.
/// Backward: `db[f] = Σ_{n,i,j} dout[n, f, i, j]`, `dW = Σ_n dout_n · cols_nᵀ`, `dx = col2im(Wᵀ · dout_n)`,
/// where `cols_n (C·HH·WW, H'·W')` is the im2col patch matrix of image `n`.
/// Cost per sample: `2·F·K·P` flops forward (`K = C·HH·WW`, `P = H'·W'`), `2·F·K·P` for `dW`
/// and another `2·F·K·P` for `dx` (skipped when `needsInputGradient` is false), all in `T.gemm`;
/// im2col/col2im add O(K·P) memory traffic. Patch matrices are built for blocks of at most
/// `geometry.chunk(batch:)` images (one image for 32×32 maps), so scratch memory is
/// O(K·P·chunk) per thread; a training forward keeps the whole batch's patch matrices for
/// the backward when they take at most 64 MiB (`ConvScratch.keptLimitBytes`). The blocks go
/// to `context.productThreads` threads, with results bit-identical to one thread.
/// A non-integer output size is rejected with a `ShapeError` naming the input and filter shapes.
public final class Conv2D<T: Real>: Layer {
    public let kind = ConvKind.name
    public let inputShape: [Int]
    public let outputShape: [Int]
    public let weight: Parameter<T>, bias: Parameter<T>
    /// `C·HH·WW`, the number of inputs of each output unit (for kaiming/xavier).
    public let fanIn: Int
    public let geometry: ConvGeometry
    public var needsInputGradient = true
    /// Its thread budget: the blocks of images of a batch are spread over `productThreads`.
    public let context: ComputeContext
    private var input: Tensor<T>?
    private let output = Tensor<T>(shape: [0]), dx = Tensor<T>(shape: [0])
    private let scratch = ConvScratch<T>()

    public init(inputShape: [Int], filters: Int, height: Int, width: Int, stride: Int, pad: Int,
                context: ComputeContext = ComputeContext()) throws {
        self.context = context
        geometry = try Conv2D.geometry(inputShape: inputShape, filters: filters, height: height, width: width, stride: stride, pad: pad)
        self.inputShape = inputShape
        self.outputShape = [filters, geometry.outHeight, geometry.outWidth]
        let c = inputShape[0]
        fanIn = c * height * width
        weight = Parameter(name: "W", shape: [filters, c, height, width], regularized: true)
        bias = Parameter(name: "b", shape: [filters], regularized: false)
    }

    /// The shape rule (shared with `inferShapes`, which allocates nothing): the geometry of
    /// this convolution of a `(C, H, W)` input, or the `ShapeError` saying why there is none.
    public static func geometry(inputShape: [Int], filters: Int, height: Int, width: Int, stride: Int, pad: Int) throws -> ConvGeometry {
        guard inputShape.count == 3, inputShape.allSatisfy({ $0 > 0 }) else {
            throw ShapeError("conv needs a (C, H, W) input, got \(inputShape)")
        }
        guard filters > 0, height > 0, width > 0 else {
            throw ShapeError("conv needs positive filters and filter size, got \(filters) filters of \(height)×\(width)")
        }
        guard stride > 0, pad >= 0 else {
            throw ShapeError("conv needs stride ≥ 1 and pad ≥ 0, got stride \(stride), pad \(pad)")
        }
        let (c, h, w) = (inputShape[0], inputShape[1], inputShape[2])
        let wshape = [filters, c, height, width]
        _ = try checkedElementCount(wshape, what: "conv weight")
        _ = try checkedElementCount([filters, h + 2 * pad, w + 2 * pad], what: "conv output")
        func check(_ dim: String, _ n: Int, _ k: Int) throws {
            if ConvGeometry.outputSize(input: n, kernel: k, stride: stride, pad: pad) != nil { return }
            let span = n + 2 * pad - k
            let why = span < 0 ? "the filter is larger than the padded input"
                : "1 + (\(n) + 2·\(pad) − \(k))/\(stride) = 1 + \(span)/\(stride) is not an integer"
            throw ShapeError("conv: input \(inputShape) with filters \(wshape) (stride \(stride), pad \(pad)) gives no valid output \(dim): \(why)")
        }
        try check("height", h, height)
        try check("width", w, width)
        return ConvGeometry(channels: c, height: h, width: w, filters: filters, kernelHeight: height, kernelWidth: width,
                            stride: stride, pad: pad)
    }

    /// `2·F·K·P` forward, the same for `dW` and again for `dx` when the input gradient is needed.
    public static func flopsPerSample(_ g: ConvGeometry, inputGradient: Bool) -> Int { (inputGradient ? 3 : 2) * g.forwardFlops }

    public var parameters: [Parameter<T>] { [weight, bias] }
    public var flopsPerSample: Int { Conv2D.flopsPerSample(geometry, inputGradient: needsInputGradient) }

    public func forward(_ x: Tensor<T>, mode: Mode) -> Tensor<T> {
        let n = x.rows
        precondition(x.count == n * geometry.inputCount, "conv: input \(x.shape) does not match \(inputShape)")
        input = x
        output.resize([n] + outputShape)
        convForward(geometry, n: n, x: x.data, weight: weight.value.data, bias: bias.value.data, y: output.data,
                    scratch: scratch, threads: context.productThreads, keep: mode == .train)
        return output
    }

    public func backward(_ dout: Tensor<T>) -> Tensor<T>? {
        guard let x = input else { preconditionFailure("conv: backward before forward") }
        if needsInputGradient { dx.resize(x.shape) }
        convBackward(geometry, n: x.rows, x: x.data, weight: weight.value.data, dout: dout.data,
                     dx: needsInputGradient ? dx.data : nil, dweight: weight.grad.data, dbias: bias.grad.data,
                     scratch: scratch, threads: context.productThreads)
        return needsInputGradient ? dx : nil
    }
}

/// conv in a layer list: `{"type": "conv", "filters": 16, "size": 3}` (filter `height × width`,
/// each defaulting to `size`; `pad` null or `"same"`: `(height − 1)/2`).
public struct ConvKind: LayerKind {
    public static let name = "conv"
    public static let fields = [
        LayerField("filters", .int(min: 1), nil, "output channels"),
        LayerField("size", .int(min: 1), 3, "square filter size"),
        LayerField("height", .optionalInt(min: 1), nil, "filter height (default: size)"),
        LayerField("width", .optionalInt(min: 1), nil, "filter width (default: size)"),
        LayerField("stride", .int(min: 1), 1, "stride"),
        LayerField("pad", .optionalInt(min: 0), nil, "zero padding (null: (size − 1)/2, \"same\" for odd sizes)"),
    ]
    public let filters: Int, height: Int, width: Int, stride: Int, pad: Int
    public init(filters: Int, height: Int, width: Int, stride: Int, pad: Int) {
        self.filters = filters; self.height = height; self.width = width; self.stride = stride; self.pad = pad
    }
    public init(_ a: LayerArguments) {
        let s = a.int("size")
        let h = a.optionalInt("height") ?? s, w = a.optionalInt("width") ?? s
        self.init(filters: a.int("filters"), height: h, width: w, stride: a.int("stride"), pad: a.optionalInt("pad") ?? (h - 1) / 2)
    }
    func geometry(_ input: LayerInput) throws -> ConvGeometry {
        try Conv2D<Float>.geometry(inputShape: input.shape, filters: filters, height: height, width: width, stride: stride, pad: pad)
    }
    public func infer(_ input: LayerInput) throws -> LayerShape {
        let g = try geometry(input)
        return LayerShape(outputShape: [filters, g.outHeight, g.outWidth], parameterCount: filters * g.patchSize + filters,
                          flopsPerSample: Conv2D<Float>.flopsPerSample(g, inputGradient: !input.isFirst))
    }
    /// Output and input gradient per row; the im2col patches (and their gradient, unless
    /// first) and the GEMM scratch for the images of one chunk (on one thread), and the
    /// whole batch's patch matrices when they are kept from forward to backward.
    public func memory(_ input: LayerInput, outputShape: [Int], batch: Int) -> LayerMemory {
        var m = LayerMemory(perRow: outputShape.reduce(1, *) + input.gradientCount)
        guard let g = try? geometry(input) else { return m }
        let chunk = g.chunk(batch: batch)
        m.scratch = g.colsCount(chunk: chunk) * (input.isFirst ? 1 : 2) + g.tmpCount(chunk: chunk)
        if ConvScratch<Float>.keeps(g, batch: batch) { m.scratch += g.patchSize * g.positions * batch }
        return m
    }
    public func makeLayer<T: Real>(_ input: LayerInput, _ builder: inout LayerBuilder) throws -> any Layer<T> {
        let c = try Conv2D<T>(inputShape: input.shape, filters: filters, height: height, width: width, stride: stride, pad: pad,
                              context: builder.context)
        builder.fillWeights(c.weight.value, fanIn: c.fanIn, fanOut: filters * height * width)
        return c
    }
}

extension LayerSpec {
    public static func conv(filters: Int, height: Int, width: Int, stride: Int, pad: Int) -> LayerSpec {
        LayerSpec(ConvKind(filters: filters, height: height, width: width, stride: stride, pad: pad))
    }
}
