/// The network as a library user sees it: parameters by name, values in and out as plain
/// arrays (owned by the caller), labels as `[Int32]`.
extension Network {
    /// Every parameter under the course's name: the k-th weight matrix (affine or conv) is
    /// `Wk` with bias `bk`, and a normalisation layer after it has `gammak`, `betak`
    /// (`W1, b1, gamma1, beta1, W2, …`), in layer order.
    public var namedParameters: [(name: String, parameter: Parameter<T>)] {
        var k = 0
        return parameters.map { p in
            if p.name == "W" { k += 1 }
            return ("\(p.name)\(max(k, 1))", p)
        }
    }

    /// Every parameter and buffer under the name a saved model stores it by, in layer order:
    /// parameters as in `namedParameters`, a layer's buffers as its `bufferNames` with the
    /// number of the layer's parameters (`running_mean1`, `running_var1` beside `gamma1`). A
    /// name that would repeat (a normalisation before the first weight matrix) gets `_2`, `_3`, ….
    public var namedTensors: [(name: String, tensor: Tensor<T>, isBuffer: Bool)] {
        var k = 0
        var out: [(name: String, tensor: Tensor<T>, isBuffer: Bool)] = []
        var seen: [String: Int] = [:]
        func add(_ base: String, _ t: Tensor<T>, _ isBuffer: Bool) {
            let n = (seen[base] ?? 0) + 1
            seen[base] = n
            out.append((n == 1 ? base : "\(base)_\(n)", t, isBuffer))
        }
        for layer in layers {
            for p in layer.parameters {
                if p.name == "W" { k += 1 }
                add("\(p.name)\(max(k, 1))", p.value, false)
            }
            for (name, b) in zip(layer.bufferNames, layer.buffers) { add("\(name)\(max(k, 1))", b, true) }
        }
        return out
    }

    public func parameter(named name: String) -> Parameter<T>? { namedParameters.first { $0.name == name }?.parameter }

    /// A copy of parameter `name`'s values (row-major), nil for an unknown name.
    public func values(of name: String) -> [T]? { parameter(named: name)?.value.array }

    /// Replaces parameter `name`'s values (row-major).
    public func setValues(_ values: [T], of name: String) throws(ParameterError) {
        guard let p = parameter(named: name) else { throw .unknown(name, known: namedParameters.map(\.name)) }
        guard values.count == p.value.count else { throw .wrongCount(name, expected: p.value.count, got: values.count) }
        values.withUnsafeBufferPointer { p.value.data.update(from: $0.baseAddress!, count: values.count) }
    }

    /// Class scores of `rows` samples (`x` row-major, `rows × inputShape`) as a new array of
    /// `rows × numClasses` values. Unlike `forward`, the result is the caller's to keep.
    public func scores(_ x: [T], rows: Int, mode: Mode = .test) -> [T] {
        precondition(x.count == rows * inputShape.reduce(1, *), "scores: x has \(x.count) values, not rows × \(inputShape)")
        return x.withUnsafeBufferPointer { xb in forward(Tensor(viewing: xb.baseAddress!, shape: [rows] + inputShape), mode: mode).array }
    }

    /// `lossAndGradients` with labels as an array (one per row of `x`).
    public func lossAndGradients(_ x: Tensor<T>, labels: [Int32]) -> T {
        precondition(labels.count == x.rows, "lossAndGradients: \(labels.count) labels for \(x.rows) rows")
        return labels.withUnsafeBufferPointer { lossAndGradients(x, labels: $0.baseAddress!) }
    }
}

/// A parameter name or size that does not fit the network.
public enum ParameterError: Error, Equatable, CustomStringConvertible {
    case unknown(String, known: [String])
    case wrongCount(String, expected: Int, got: Int)
    public var description: String {
        switch self {
        case let .unknown(n, known): "no parameter \(n) (the network has \(known.joined(separator: ", ")))"
        case let .wrongCount(n, e, g): "parameter \(n) has \(e) values, got \(g)"
        }
    }
}
