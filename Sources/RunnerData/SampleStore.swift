import Foundation

/// Rows of samples as they are stored: bytes (images) or Float32 (everything else), in
/// memory the store owns or in a memory-mapped file (read from disk per batch, so a data
/// set larger than memory still trains). Rows are `rowSize` elements, `rowStride` bytes
/// apart (a CIFAR record's pixels sit between label bytes). Immutable once filled.
public final class SampleStore: @unchecked Sendable {
    public enum Element: Sendable { case uint8, float32
        public var bytes: Int { self == .uint8 ? 1 : 4 }
    }
    public let element: Element
    public let rowCount: Int
    public let rowSize: Int
    /// Bytes between the starts of two rows.
    public let rowStride: Int
    let base: UnsafeRawPointer
    private let allocated: UnsafeMutableRawPointer?
    private let mapping: (address: UnsafeMutableRawPointer, length: Int)?

    /// Owned, zero-filled memory for `rows` rows; fill it through `mutableRow` before sharing.
    public init(allocating element: Element, rows: Int, rowSize: Int) {
        self.element = element; rowCount = rows; self.rowSize = rowSize; rowStride = rowSize * element.bytes
        let p = UnsafeMutableRawPointer.allocate(byteCount: max(rows * rowStride, 1), alignment: 64)
        p.initializeMemory(as: UInt8.self, repeating: 0, count: max(rows * rowStride, 1))
        allocated = p; mapping = nil; base = UnsafeRawPointer(p)
    }

    /// Maps `path` read-only; row r starts at byte `offset + r·rowStride`. The file must
    /// hold every row (the reader checks its size first).
    public init(mapping path: String, offset: Int, element: Element, rows: Int, rowSize: Int, rowStride: Int? = nil) throws {
        self.element = element; rowCount = rows; self.rowSize = rowSize; self.rowStride = rowStride ?? rowSize * element.bytes
        let length = offset + max(rows - 1, 0) * self.rowStride + rowSize * element.bytes
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { throw DataError.unreadable(path, String(cString: strerror(errno))) }
        defer { close(fd) }
        guard let m = mmap(nil, max(length, 1), PROT_READ, MAP_PRIVATE, fd, 0), m != MAP_FAILED else {
            throw DataError.unreadable(path, "cannot map it into memory: " + String(cString: strerror(errno)))
        }
        mapping = (m, max(length, 1)); allocated = nil; base = UnsafeRawPointer(m + offset)
    }

    /// A store of the given Float values (tests, synthetic data).
    public convenience init(floats: [Float], rowSize: Int) {
        self.init(allocating: .float32, rows: rowSize == 0 ? 0 : floats.count / rowSize, rowSize: rowSize)
        floats.withUnsafeBytes { allocated!.copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
    }

    /// Whether the rows are read from a memory-mapped file (per batch, from disk when evicted).
    public var isMapped: Bool { mapping != nil }

    deinit {
        allocated?.deallocate()
        if let m = mapping { munmap(m.address, m.length) }
    }

    /// Start of row `r` (for readers filling an allocated store).
    public func mutableRow(_ r: Int) -> UnsafeMutableRawPointer {
        precondition(allocated != nil && r < rowCount)
        return allocated! + r * rowStride
    }
    public func row(_ r: Int) -> UnsafeRawPointer { base + r * rowStride }

    /// Element j of row r as Float.
    @inline(__always) public func value(_ r: Int, _ j: Int) -> Float {
        element == .uint8 ? Float(base.load(fromByteOffset: r * rowStride + j, as: UInt8.self))
                          : base.load(fromByteOffset: r * rowStride + 4 * j, as: Float.self)
    }
}

/// The preprocessing fitted on the training split, applied element by element when a batch
/// is gathered: x' = (Float(x) − shift[j]) · scale[j] (each part left out when nil), so
/// `subtract_mean` computes exactly Float(x) − mean[j] as the course does.
public struct Transform: Sendable, Equatable {
    public var shift: [Float]?
    public var scale: [Float]?
    public init(shift: [Float]? = nil, scale: [Float]? = nil) { self.shift = shift; self.scale = scale }
    public static let identity = Transform()
}

/// One split: `count` rows of a store (from row `first`), their labels, the sample shape
/// and the preprocessing. The rows stay as stored (bytes for images) until a batch needs
/// them (`gather`).
public struct Split: Sendable {
    public let store: SampleStore
    public let first: Int
    public let y: [Int32]
    public let sampleShape: [Int]
    public let transform: Transform
    public var count: Int { y.count }
    public var rowSize: Int { sampleShape.reduce(1, *) }

    public init(store: SampleStore, first: Int, labels: [Int32], sampleShape: [Int], transform: Transform) {
        precondition(first + labels.count <= store.rowCount && store.rowSize == sampleShape.reduce(1, *))
        self.store = store; self.first = first; self.y = labels; self.sampleShape = sampleShape; self.transform = transform
    }

    /// A split of ready Float values (synthetic data, tests).
    public init(x: [Float], y: [Int32], sampleShape: [Int]) {
        precondition(x.count == y.count * sampleShape.reduce(1, *))
        self.init(store: SampleStore(floats: x, rowSize: sampleShape.reduce(1, *)), first: 0, labels: y, sampleShape: sampleShape, transform: .identity)
    }

    /// Copies `count` rows (indices into this split) into `dst`, preprocessed, as T.
    /// Cost: count · rowSize element conversions.
    public func gather<T: Real>(rows: UnsafePointer<Int>, count n: Int, into dst: UnsafeMutablePointer<T>) {
        let d = rowSize
        let shift = transform.shift, scale = transform.scale
        var row = [Float](repeating: 0, count: d)
        row.withUnsafeMutableBufferPointer { buf in
            let v = buf.baseAddress!
            for i in 0..<n {
                let src = store.row(first + rows[i])
                switch store.element {
                case .uint8:
                    let s = src.assumingMemoryBound(to: UInt8.self)
                    for j in 0..<d { v[j] = Float(s[j]) }
                case .float32:
                    v.update(from: src.assumingMemoryBound(to: Float.self), count: d)
                }
                if let shift { shift.withUnsafeBufferPointer { m in for j in 0..<d { v[j] -= m[j] } } }
                if let scale { scale.withUnsafeBufferPointer { s in for j in 0..<d { v[j] *= s[j] } } }
                let out = dst + i * d
                if T.self == Float.self {
                    UnsafeMutableRawPointer(out).copyMemory(from: v, byteCount: d * 4)
                } else {
                    for j in 0..<d { out[j] = T(v[j]) }
                }
            }
        }
    }

    /// Every row, preprocessed, as Float (tests, the library, small data; a training run never
    /// makes it). Made on first use (count · rowSize conversions) and kept with the split.
    public var x: [Float] {
        materialized.lock.withLock {
            if let v = materialized.values { return v }
            var out = [Float](repeating: 0, count: count * rowSize)
            let idx = Array(0..<count)
            idx.withUnsafeBufferPointer { r in out.withUnsafeMutableBufferPointer { gather(rows: r.baseAddress!, count: count, into: $0.baseAddress!) } }
            materialized.values = out
            return out
        }
    }
    private let materialized = Materialized()
}

/// The Float values of a split once `Split.x` has made them.
final class Materialized: @unchecked Sendable {
    let lock = NSLock()
    var values: [Float]?
}

/// Train, validation and test splits, shared read-only by every trial.
public final class Dataset: Sendable {
    public let train: Split, val: Split, test: Split
    public let numClasses: Int
    /// Class names in class order (written to the results as classes.csv).
    public let classNames: [String]
    public let source: String
    public init(train: Split, val: Split, test: Split, numClasses: Int, classNames: [String]? = nil, source: String) {
        self.train = train; self.val = val; self.test = test; self.numClasses = numClasses
        self.classNames = classNames ?? (0..<numClasses).map(String.init); self.source = source
    }
    public var sampleShape: [Int] { train.sampleShape }
}

/// Splits raw rows and fits the preprocessing on the training split (see `DataSources.load`).
func assemble(_ raw: RawData, _ r: DataRequest, preprocess: Preprocess) throws -> Dataset {
    let shape = raw.shape.sampleShape
    let available = raw.train.count
    let trainFile = r.files["train"].flatMap { $0.single ?? $0.paths.values.sorted().first } ?? r.directory
    let splitSize: Int
    if raw.val == nil {
        splitSize = available - r.numVal
        guard splitSize > 0 else {
            throw r.files.isEmpty ? DataError.notEnoughRows(directory: r.directory, needed: r.numVal + 1, available: available, what: "training")
                                  : DataError.tooFewRows(file: trainFile, needed: r.numVal + 1, available: available, what: "training")
        }
    } else {
        splitSize = available
        guard raw.val!.count >= r.numVal else {
            let f = r.files["val"].flatMap { $0.single ?? $0.paths.values.sorted().first } ?? "data.val"
            throw DataError.tooFewRows(file: f, needed: r.numVal, available: raw.val!.count, what: "validation")
        }
    }
    let nTrain = r.numTrain ?? splitSize
    guard nTrain <= splitSize else {
        let needed = nTrain + (raw.val == nil ? r.numVal : 0)
        throw r.files.isEmpty ? DataError.notEnoughRows(directory: r.directory, needed: needed, available: available, what: "training")
                              : DataError.tooFewRows(file: trainFile, needed: needed, available: available, what: "training")
    }
    let transform = fit(preprocess, raw.train.store, rows: splitSize, sampleShape: shape)
    func split(_ rows: LabeledRows, from: Int, count: Int) -> Split {
        Split(store: rows.store, first: from, labels: Array(rows.labels[from..<(from + count)]), sampleShape: shape, transform: transform)
    }
    let train = split(raw.train, from: 0, count: nTrain)
    let val = raw.val.map { split($0, from: 0, count: r.numVal) } ?? split(raw.train, from: splitSize, count: r.numVal)
    let test = raw.test.map { split($0, from: 0, count: min(r.numTest ?? $0.count, $0.count)) }
        ?? Split(x: [], y: [], sampleShape: shape)
    return Dataset(train: train, val: val, test: test, numClasses: raw.shape.numClasses, classNames: raw.shape.classNames, source: raw.shape.origin)
}

/// The transform of `p` fitted on the first `rows` rows of `store` (see `Preprocess`).
/// Sums run in Double in row order. Cost: one pass over those rows (two for standardize).
func fit(_ p: Preprocess, _ store: SampleStore, rows: Int, sampleShape: [Int]) -> Transform {
    let d = store.rowSize
    // Channels: the first axis of an image (C, H, W); every feature of a table (D).
    let channels = sampleShape.count == 3 ? sampleShape[0] : d
    let per = d / max(channels, 1)
    func expand(_ v: [Double]) -> [Float] { (0..<d).map { Float(v[$0 / per]) } }
    switch p {
    case .none:
        return .identity
    case .subtractMean:
        var mean = [Double](repeating: 0, count: d)
        for r in 0..<rows { for j in 0..<d { mean[j] += Double(store.value(r, j)) } }
        return Transform(shift: mean.map { Float($0 / Double(max(rows, 1))) })
    case .standardize:
        var sum = [Double](repeating: 0, count: channels), sq = [Double](repeating: 0, count: channels)
        for r in 0..<rows { for j in 0..<d { sum[j / per] += Double(store.value(r, j)) } }
        let n = Double(max(rows * per, 1))
        let mean = sum.map { $0 / n }
        for r in 0..<rows { for j in 0..<d { let c = j / per, e = Double(store.value(r, j)) - mean[c]; sq[c] += e * e } }
        let inv = sq.map { s -> Double in let sd = (s / n).squareRoot(); return sd > 0 ? 1 / sd : 1 }
        return Transform(shift: expand(mean), scale: expand(inv))
    case .scale:
        if store.element == .uint8 { return Transform(shift: nil, scale: [Float](repeating: 1 / 255, count: d)) }
        var lo = [Double](repeating: .infinity, count: channels), hi = [Double](repeating: -.infinity, count: channels)
        for r in 0..<rows { for j in 0..<d { let v = Double(store.value(r, j)); lo[j / per] = min(lo[j / per], v); hi[j / per] = max(hi[j / per], v) } }
        let inv = zip(lo, hi).map { $1 > $0 ? 1 / ($1 - $0) : 1 }
        return Transform(shift: expand(lo.map { $0.isFinite ? $0 : 0 }), scale: expand(inv))
    }
}
