import Foundation
import RunnerKernels

/// Everything a training run needs to go on exactly where it stopped, taken at an epoch end:
/// parameters and buffers, optimizer state and step, every random generator (minibatches,
/// accuracy subsamples, each dropout layer), the shuffle order, the best parameters so far and
/// the histories. `Solver.train(resumingFrom:)` continues from it to the same numbers, bit for
/// bit, as a run that was never stopped. What is a function of the iteration count (the
/// learning-rate schedule, the augmentation generator of each epoch) or of the histories
/// (early stopping) needs no state of its own.
public struct TrainingState<T: Real>: Sendable {
    public var iterationsDone: Int
    public var epoch: Int
    public var optimizerStep: Int
    /// `Network.snapshot()`: every parameter, then every buffer.
    public var network: [[T]]
    /// The optimizer's state buffers, parameter by parameter (`Optimizer.state`, flattened).
    public var optimizer: [[T]]
    public var best: [[T]]?
    /// Generator states: minibatches, accuracy subsamples, then each layer that has one.
    public var generators: [[UInt64]]
    /// The shuffle order and position in it (empty without `shuffle`).
    public var permutation: [Int]
    public var cursor: Int
    public var losses: [Double]
    /// The rate of every iteration (the schedule gives it from the iteration count; kept for the histories).
    public var learningRates: [Double]
    public var epochs: [EpochRecord]
    public var bestValAccuracy: Double
    public var bestEpoch: Int
    public var seconds: Double
}

public struct CheckpointError: Error, CustomStringConvertible, Equatable {
    public let description: String
    init(_ d: String) { description = d }
}

/// The checkpoint file: the magic `RUNNERCK`, a little-endian UInt64 header length, a JSON
/// header (scalars, and each array's name, element type and count, in order), then the arrays'
/// raw little-endian bytes one after the other. Doubles in the header are stored as their bit
/// patterns, so nothing is rounded. `key` ties the file to one trial.
public enum CheckpointFile {
    static let magic = Array("RUNNERCK".utf8)
    static let version = 1

    struct Entry: Codable { var name: String; var type: String; var count: Int }
    struct Header: Codable {
        var version: Int
        var key: String
        var dtype: String
        var scalars: [String: UInt64]
        var arrays: [Entry]
    }

    public static func encode<T: Real>(_ s: TrainingState<T>, key: String) -> Data {
        var entries: [Entry] = []
        var body = Data()
        func add<E>(_ name: String, _ type: String, _ values: [E]) {
            entries.append(Entry(name: name, type: type, count: values.count))
            values.withUnsafeBytes { body.append(contentsOf: $0) }
        }
        let tType = T.dtypeName
        for (k, a) in s.network.enumerated() { add("network.\(k)", tType, a) }
        for (k, a) in s.optimizer.enumerated() { add("optimizer.\(k)", tType, a) }
        if let best = s.best { for (k, a) in best.enumerated() { add("best.\(k)", tType, a) } }
        for (k, g) in s.generators.enumerated() { add("generator.\(k)", "u64", g) }
        add("permutation", "u64", s.permutation.map { UInt64($0) })
        add("losses", "f64", s.losses)
        add("learning_rates", "f64", s.learningRates)
        add("epochs", "f64", s.epochs.flatMap { [Double($0.epoch), Double($0.iteration), $0.trainAccuracy, $0.valAccuracy, $0.learningRate] })
        let scalars: [String: UInt64] = [
            "iterations_done": UInt64(s.iterationsDone), "epoch": UInt64(s.epoch),
            "optimizer_step": UInt64(s.optimizerStep), "cursor": UInt64(s.cursor),
            "best_val_acc": s.bestValAccuracy.bitPattern, "best_epoch": UInt64(s.bestEpoch), "seconds": s.seconds.bitPattern,
        ]
        let header = Header(version: version, key: key, dtype: tType, scalars: scalars, arrays: entries)
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        let json = (try? encoder.encode(header)) ?? Data()
        var out = Data(magic)
        withUnsafeBytes(of: UInt64(json.count).littleEndian) { out.append(contentsOf: $0) }
        out.append(json)
        out.append(body)
        return out
    }

    /// Reads a checkpoint written by `encode` for the same `key` and element type; any other
    /// file (damaged, truncated, another trial's, another version) is an error saying why.
    public static func decode<T: Real>(_ data: Data, key: String, as: T.Type = T.self) throws(CheckpointError) -> TrainingState<T> {
        let bytes = [UInt8](data)
        guard bytes.count >= 16, Array(bytes[0..<8]) == magic else { throw CheckpointError("not a runner checkpoint") }
        let headerLength = bytes[8..<16].reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        guard headerLength <= UInt64(bytes.count - 16) else { throw CheckpointError("truncated header") }
        let bodyStart = 16 + Int(headerLength)
        guard let h = try? JSONDecoder().decode(Header.self, from: Data(bytes[16..<bodyStart])) else { throw CheckpointError("unreadable header") }
        guard h.version == version else { throw CheckpointError("format version \(h.version), expected \(version)") }
        guard h.key == key else { throw CheckpointError("belongs to another trial") }
        guard h.dtype == T.dtypeName else { throw CheckpointError("holds \(h.dtype), expected \(T.dtypeName)") }
        var arrays: [String: (type: String, range: Range<Int>)] = [:]
        var offset = bodyStart
        for e in h.arrays {
            let size: Int
            switch e.type {
            case "float32": size = 4
            case "float64", "f64", "u64": size = 8
            default: throw CheckpointError("unknown element type \(e.type)")
            }
            guard e.count >= 0, e.count <= (bytes.count - offset) / size else { throw CheckpointError("truncated at \(e.name)") }
            arrays[e.name] = (e.type, offset..<(offset + e.count * size))
            offset += e.count * size
        }
        guard offset == bytes.count else { throw CheckpointError("\(bytes.count - offset) bytes after the last array") }
        func values<E>(_ name: String, _ type: String, _: E.Type) throws(CheckpointError) -> [E]? {
            guard let a = arrays[name] else { return nil }
            guard a.type == type else { throw CheckpointError("\(name) holds \(a.type), expected \(type)") }
            let n = a.range.count / MemoryLayout<E>.size
            return [E](unsafeUninitializedCapacity: n) { buf, count in
                bytes.withUnsafeBytes { src in
                    UnsafeMutableRawBufferPointer(buf).copyMemory(from: UnsafeRawBufferPointer(rebasing: src[a.range]))
                }
                count = n
            }
        }
        func list(_ prefix: String) throws(CheckpointError) -> [[T]] {
            var out: [[T]] = []
            while let a = try values("\(prefix).\(out.count)", T.dtypeName, T.self) { out.append(a) }
            return out
        }
        var generators: [[UInt64]] = []
        while let g = try values("generator.\(generators.count)", "u64", UInt64.self) { generators.append(g) }
        guard let perm = try values("permutation", "u64", UInt64.self), let losses = try values("losses", "f64", Double.self),
              let rates = try values("learning_rates", "f64", Double.self),
              let flat = try values("epochs", "f64", Double.self), flat.count % 5 == 0 else { throw CheckpointError("histories missing") }
        let epochs = stride(from: 0, to: flat.count, by: 5).map {
            EpochRecord(epoch: Int(flat[$0]), iteration: Int(flat[$0 + 1]), trainAccuracy: flat[$0 + 2], valAccuracy: flat[$0 + 3], learningRate: flat[$0 + 4])
        }
        func scalar(_ name: String) throws(CheckpointError) -> UInt64 {
            guard let v = h.scalars[name] else { throw CheckpointError("\(name) missing") }
            return v
        }
        func count(_ name: String) throws(CheckpointError) -> Int {
            let v = try scalar(name)
            guard v <= UInt64(Int32.max) else { throw CheckpointError("\(name) out of range") }
            return Int(v)
        }
        let best = try list("best")
        return TrainingState(
            iterationsDone: try count("iterations_done"), epoch: try count("epoch"),
            optimizerStep: try count("optimizer_step"), network: try list("network"), optimizer: try list("optimizer"),
            best: best.isEmpty ? nil : best, generators: generators,
            permutation: perm.map { Int(truncatingIfNeeded: $0) }, cursor: try count("cursor"),
            losses: losses, learningRates: rates, epochs: epochs, bestValAccuracy: Double(bitPattern: try scalar("best_val_acc")),
            bestEpoch: try count("best_epoch"), seconds: Double(bitPattern: try scalar("seconds")))
    }
}
