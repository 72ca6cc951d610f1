import Foundation

/// Bytes one trial holds at its peak, estimated from the inferred shapes (`inferShapes`;
/// nothing is allocated), so a config that cannot fit the machine is a config error at
/// `validate` time rather than an out-of-memory kill or a "failed to allocate" trap mid-run.
///
/// The model (E = 4 bytes for float32, 8 for float64; P = parameters; N = max(batch_size,
/// eval_batch_size) rows, since a layer's buffers keep their largest size):
/// - parameters: P·E, plus the layers' buffers and fixed state (`LayerMemory.buffers` and
///   `.state`; batchnorm: running statistics 2·C, batch statistics and scratch 4·C);
/// - gradients: P·E (every `Parameter` has a gradient of its size);
/// - optimizer state: k·P·E with k = 0 for sgd, 1 for sgd_momentum, nesterov, rmsprop and
///   adagrad, 2 for adam (the buffers `Optimizer.init` allocates);
/// - best-model copy: (P + B)·E, the Solver's `snapshot()` of the parameters and the
///   layers' buffers (B elements: batchnorm's running statistics);
/// - activations: N·E times the per-row elements each layer keeps, the whole-batch scratch
///   (conv's im2col), the gathered input batch and the score gradient, plus labels and
///   indices. Each layer kind states what it keeps (`LayerKind.memory`, in the layer's
///   file; `out`/`in` = output/input elements per row, the input gradient `in` not kept by
///   the first layer): e.g. affine out + in (+ out when it applies the relu after it), relu
///   out + in, batchnorm 2·out + in (output, x̂, dx), dropout 2·out + in when p > 0;
/// - data: the stored rows as the source keeps them (`DataShape.bytesPerElement`: 1 byte
///   per pixel for images, 4 for float data, whatever the dtype): every row of the training
///   source (the validation rows and the rows beyond num_train included), of `data.val` and
///   the test rows, plus a 4-byte label per split row, 8 bytes per training row for the
///   Solver's permutation and the source's read buffer while loading (memory-mapped files
///   count too: their pages are resident once read);
/// - loss history: 16 bytes per iteration kept by the Solver (loss and learning rate), and
///   ~270 more while loss.csv and record.json are formatted when the trial is written
///   (measured: 255 B per iteration before the learning-rate column; the column and its
///   record entry added 29 B, peak RSS of 300,000 iterations against 1,000).
///
/// Against the measured peak RSS of `runner run` (fc with adam, fc float64 + batchnorm +
/// dropout, a two-conv net with batch 1000, 2·10⁶ synthetic rows, a 20000-unit layer with
/// batch 2000) the estimate was 0.81–1.03 of the real peak: the runtime's own ~20 MB, the
/// allocator's slack and small arrays are left out, so read it as "within a factor of 1.5".
public struct MemoryEstimate: Equatable, Sendable {
    public var parameters = 0.0
    public var gradients = 0.0
    public var optimizerState = 0.0
    public var bestCopy = 0.0
    public var activations = 0.0
    public var data = 0.0
    public var history = 0.0
    /// Rows of the activations' batch, N.
    public var batchRows = 0

    public var total: Double { parameters + gradients + optimizerState + bestCopy + activations + data + history }

    /// The parts in a fixed order, with the config path that controls each.
    public func parts(_ c: ExperimentConfig) -> [(name: String, bytes: Double, path: String)] {
        let rows = c.dataRows
        let dataPath = rows.train >= max(rows.val, rows.test) ? "data.num_train" : rows.val >= rows.test ? "data.num_val" : "data.num_test"
        return [("parameters", parameters, "model"), ("gradients", gradients, "model"),
                ("optimizer state", optimizerState, "model"), ("best-model copy", bestCopy, "model"),
                ("activations of \(batchRows) rows", activations,
                 c.training.batchSize >= c.training.evalBatchSize ? "training.batch_size" : "training.eval_batch_size"),
                ("data", data, dataPath), ("loss history", history, "training.num_epochs")]
    }
}

extension ExperimentConfig {
    /// Rows of each split, from the data's row counts (`DataShape`) and the config.
    public var dataRows: (train: Int, val: Int, test: Int) {
        guard let s = try? dataShapeResult.get() else { return (numTrain ?? 0, numVal, numTest ?? 0) }
        let b = DataRows(s, dataRequest)
        return (b.train, b.val, b.test)
    }

    /// The memory one trial of this config needs (see `MemoryEstimate`).
    public func memoryEstimate(_ shapes: NetworkShapes) -> MemoryEstimate {
        let e = Double(dtype == "float64" ? 8 : 4)
        let n = max(training.batchSize, training.evalBatchSize)
        var m = MemoryEstimate()
        m.batchRows = n
        let p = Double(shapes.parameterCount)
        var layerBuffers = 0.0, state = 0.0, perRow = 0.0, scratch = 0.0
        for l in shapes.layers where !l.fusedIntoPrevious {
            let kept = l.memory(batch: n)
            perRow += Double(kept.perRow)
            scratch += Double(kept.scratch)
            layerBuffers += Double(kept.buffers)
            state += Double(kept.state)
        }
        let inputSize = Double(inputShape.reduce(1, *))
        m.parameters = (p + layerBuffers + state) * e
        m.gradients = p * e
        let buffers = Double(optimizer.kind.rule.stateNames.count)
        m.optimizerState = buffers * p * e
        m.bestCopy = (p + layerBuffers) * e
        // + the gathered input batch and dscores; labels, predictions and indices (4 + 4 + 8 bytes a row).
        m.activations = (Double(n) * (perRow + inputSize + Double(shapes.numClasses)) + scratch) * e + 16 * Double(n)
        let rows = dataRows
        let labels = Double(rows.train) + Double(rows.val) + Double(rows.test)
        if let s = try? dataShapeResult.get() {
            let stored = Double(s.trainRows) + Double(s.valRows ?? 0) + Double(rows.test)
            m.data = stored * inputSize * Double(s.bytesPerElement) + labels * 4 + 8 * Double(rows.train) + Double(s.loadingBytes)
        }
        let iterations = Double(training.numEpochs) * Double(training.iterationsPerEpoch(numTrain: rows.train))
        m.history = iterations * 288
        return m
    }

    /// Throws when one trial needs more than `limit` bytes: an `.invalidValue` at the path
    /// of the largest part (the model, the batch size, the data or the epochs), giving the
    /// total, its parts and the limit.
    func checkMemory(_ shapes: NetworkShapes, limit: UInt64) throws(ConfigError) {
        let m = memoryEstimate(shapes)
        guard m.total > Double(limit) else { return }
        let parts = m.parts(self).filter { $0.bytes > 0 }
        let path = parts.max { $0.bytes < $1.bytes }?.path ?? "model"
        let list = parts.map { "\($0.name) \(formatBytes($0.bytes))" }.joined(separator: ", ")
        throw .invalidValue(path: path, message: "this trial would need about \(formatBytes(m.total)) of memory (\(list)); this machine has \(formatBytes(Double(limit)))")
    }

    /// Everything `checkShapes` reads: trials with the same key pass or fail together.
    public var shapeCheckKey: String {
        "\(dataSource)|\(dataRequest)|\(dtype)|\(layers)|\(optimizer.kind)|"
            + "\(training.batchSize)|\(training.evalBatchSize)|\(training.numEpochs)"
    }
}

/// Human-readable byte count in decimal units (`1.5 GB` = 1.5·10⁹ bytes).
public func formatBytes(_ b: Double) -> String {
    let units = [(1e15, "PB"), (1e12, "TB"), (1e9, "GB"), (1e6, "MB"), (1e3, "kB")]
    for (scale, name) in units where b >= scale { return String(format: "%.1f %@", b / scale, name) }
    return String(format: "%.0f B", b)
}
