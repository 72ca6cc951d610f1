import Foundation
@_exported import RunnerKernels

/// What went wrong reading a dataset; every case names the file (or folder) involved.
public enum DataError: Error, Equatable, CustomStringConvertible, Sendable {
    case missingDirectory(String)
    case missingFile(String)
    case unreadable(String, String)
    case badSize(file: String, bytes: Int)
    case labelOutOfRange(file: String, record: Int, label: Int)
    case notEnoughRows(directory: String, needed: Int, available: Int, what: String)

    public var description: String {
        switch self {
        case .missingDirectory(let d):
            return "data folder \(d) does not exist (expected CIFAR-10 in the binary layout: data_batch_1.bin … data_batch_5.bin, test_batch.bin)"
        case .missingFile(let f): return "data file \(f) is missing"
        case .unreadable(let f, let why): return "cannot read data file \(f): \(why)"
        case let .badSize(f, n):
            return "data file \(f) has \(n) bytes, not a multiple of the 3073-byte CIFAR-10 record (1 label byte + 3072 pixels); is it the binary version?"
        case let .labelOutOfRange(f, r, l): return "data file \(f): record \(r) has label \(l), expected 0…9"
        case let .notEnoughRows(d, need, have, what):
            return "data folder \(d) holds \(have) \(what) rows but the config needs \(need)"
        }
    }
}

/// One split: `count` images of `sampleShape` as Float in row-major `(N, C, H, W)` and labels.
public struct Split: Sendable {
    public let x: [Float]
    public let y: [Int32]
    public let sampleShape: [Int]
    public var count: Int { y.count }
    public var rowSize: Int { sampleShape.reduce(1, *) }
    public init(x: [Float], y: [Int32], sampleShape: [Int]) {
        precondition(x.count == y.count * sampleShape.reduce(1, *))
        self.x = x; self.y = y; self.sampleShape = sampleShape
    }
}

/// Train, validation and test splits, preprocessed, shared read-only by every trial.
public final class Dataset: Sendable {
    public let train: Split, val: Split, test: Split
    public let numClasses: Int
    public let source: String
    public init(train: Split, val: Split, test: Split, numClasses: Int, source: String) {
        self.train = train; self.val = val; self.test = test; self.numClasses = numClasses; self.source = source
    }
    public var sampleShape: [Int] { train.sampleShape }
}

/// Reads CIFAR-10 in the official binary layout.
public enum CIFAR10 {
    public static let recordSize = 3073
    public static let imageShape = [3, 32, 32]
    public static let trainFiles = (1...5).map { "data_batch_\($0).bin" }
    public static let testFile = "test_batch.bin"

    /// Raw records of one file: labels and pixel bytes, checked.
    public static func readRecords(path: String, limit: Int = .max) throws -> (labels: [Int32], pixels: [UInt8]) {
        guard FileManager.default.fileExists(atPath: path) else { throw DataError.missingFile(path) }
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: path), options: .mappedIfSafe) }
        catch { throw DataError.unreadable(path, error.localizedDescription) }
        guard data.count % recordSize == 0, data.count > 0 else { throw DataError.badSize(file: path, bytes: data.count) }
        let n = min(data.count / recordSize, limit)
        var labels = [Int32](repeating: 0, count: n)
        var pixels = [UInt8](repeating: 0, count: n * 3072)
        try data.withUnsafeBytes { (raw: UnsafeRawBufferPointer) in
            let b = raw.bindMemory(to: UInt8.self)
            try pixels.withUnsafeMutableBufferPointer { px in
                for r in 0..<n {
                    let label = Int(b[r * recordSize])
                    guard label < 10 else { throw DataError.labelOutOfRange(file: path, record: r, label: label) }
                    labels[r] = Int32(label)
                    UnsafeMutableRawPointer(px.baseAddress! + r * 3072)
                        .copyMemory(from: raw.baseAddress! + r * recordSize + 1, byteCount: 3072)
                }
            }
        }
        return (labels, pixels)
    }

    /// Loads the standard split (SPEC §1): the training files are read in order; the last
    /// `numVal` of the available training rows are the validation split and the rows before
    /// them the training split (49,000 rows on the full set), of which the first `numTrain`
    /// are used (all when nil). The per-pixel mean image of the whole training split is
    /// subtracted from train, val and test. Test is the first `numTest` test rows.
    public static func load(directory: String, numTrain: Int?, numVal: Int = 1000, numTest: Int = 1000) throws -> Dataset {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDir), isDir.boolValue else {
            throw DataError.missingDirectory(directory)
        }
        var labels: [Int32] = []
        var pixels: [UInt8] = []
        for name in trainFiles {
            let path = (directory as NSString).appendingPathComponent(name)
            if !FileManager.default.fileExists(atPath: path) {
                if labels.isEmpty { throw DataError.missingFile(path) }
                break   // a sample folder may hold only the first files
            }
            let (l, p) = try readRecords(path: path)
            labels += l; pixels += p
        }
        let available = labels.count
        let splitSize = available - numVal
        guard splitSize > 0 else {
            throw DataError.notEnoughRows(directory: directory, needed: numVal + 1, available: available, what: "training")
        }
        let nTrain = numTrain ?? splitSize
        guard nTrain <= splitSize else {
            throw DataError.notEnoughRows(directory: directory, needed: nTrain + numVal, available: available, what: "training")
        }
        // Mean image over the whole training split, in Double.
        var mean = [Double](repeating: 0, count: 3072)
        pixels.withUnsafeBufferPointer { px in
            for r in 0..<splitSize { let row = px.baseAddress! + r * 3072; for j in 0..<3072 { mean[j] += Double(row[j]) } }
        }
        let meanF = mean.map { Float($0 / Double(splitSize)) }
        func split(_ px: [UInt8], _ ls: [Int32], from: Int, count: Int) -> Split {
            var x = [Float](repeating: 0, count: count * 3072)
            px.withUnsafeBufferPointer { p in
                x.withUnsafeMutableBufferPointer { xb in
                    for r in 0..<count {
                        let src = p.baseAddress! + (from + r) * 3072, dst = xb.baseAddress! + r * 3072
                        for j in 0..<3072 { dst[j] = Float(src[j]) - meanF[j] }
                    }
                }
            }
            return Split(x: x, y: Array(ls[from..<(from + count)]), sampleShape: imageShape)
        }
        let train = split(pixels, labels, from: 0, count: nTrain)
        let val = split(pixels, labels, from: splitSize, count: numVal)
        var test = Split(x: [], y: [], sampleShape: imageShape)
        if numTest > 0 {
            let path = (directory as NSString).appendingPathComponent(testFile)
            let (tl, tp) = try readRecords(path: path, limit: numTest)
            guard tl.count >= numTest else {
                throw DataError.notEnoughRows(directory: directory, needed: numTest, available: tl.count, what: "test")
            }
            test = split(tp, tl, from: 0, count: numTest)
        }
        return Dataset(train: train, val: val, test: test, numClasses: 10, source: directory)
    }
}

/// A seeded synthetic dataset for tests: `classes` Gaussian blobs in `dims` dimensions.
public enum SyntheticData {
    public static func blobs(seed: UInt64, numTrain: Int, numVal: Int, numTest: Int, classes: Int = 10,
                             sampleShape: [Int] = [3, 8, 8], separation: Double = 1.0) -> Dataset {
        var rng = SeededGenerator(seed: seed)
        let d = sampleShape.reduce(1, *)
        let centers = (0..<classes).map { _ in (0..<d).map { _ in rng.normal() * separation } }
        func make(_ n: Int) -> Split {
            var x = [Float](repeating: 0, count: n * d), y = [Int32](repeating: 0, count: n)
            for i in 0..<n {
                let c = rng.int(below: classes); y[i] = Int32(c)
                for j in 0..<d { x[i * d + j] = Float(centers[c][j] + rng.normal()) }
            }
            return Split(x: x, y: y, sampleShape: sampleShape)
        }
        return Dataset(train: make(numTrain), val: make(numVal), test: make(numTest), numClasses: classes, source: "synthetic(seed: \(seed))")
    }
}
