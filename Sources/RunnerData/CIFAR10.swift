import Foundation
@_exported import RunnerKernels

/// What went wrong reading a dataset; every case names the file (or folder) involved.
public enum DataError: Error, Equatable, CustomStringConvertible, Sendable {
    case missingDirectory(String)
    /// `data.dir` exists but is a file, not a folder.
    case notADirectory(String)
    case missingFile(String)
    /// `data_batch_1.bin` is present but the other training files are neither all present
    /// nor all absent: `missing` is the first missing one, `present` the file names found.
    case incompleteTrainingSet(missing: String, present: [String])
    case unreadable(String, String)
    /// Empty (`bytes == 0`) or not a whole number of 3073-byte records.
    case badSize(file: String, bytes: Int)
    /// A file of the full set that is not exactly `expected` bytes (10,000 records).
    case wrongSize(file: String, bytes: Int, expected: Int)
    case labelOutOfRange(file: String, record: Int, label: Int)
    case notEnoughRows(directory: String, needed: Int, available: Int, what: String)

    /// The rule for the training files, quoted by the messages about them.
    static let trainingFilesRule = "the training files must be all five of data_batch_1.bin … data_batch_5.bin (the full CIFAR-10 set) or data_batch_1.bin alone (a sample)"

    public var description: String {
        switch self {
        case .missingDirectory(let d):
            return "data folder \(d) does not exist (expected CIFAR-10 in the binary layout: data_batch_1.bin … data_batch_5.bin, test_batch.bin)"
        case .notADirectory(let d):
            return "data folder \(d) is a file, not a folder (data.dir or --data must name the folder that holds data_batch_1.bin … data_batch_5.bin and test_batch.bin)"
        case .missingFile(let f):
            let name = (f as NSString).lastPathComponent
            if name.hasPrefix("data_batch_") { return "data file \(f) is missing (\(DataError.trainingFilesRule), plus test_batch.bin)" }
            if name == CIFAR10.testFile { return "data file \(f) is missing (it holds the test split; set data.num_test to 0 to run without it)" }
            return "data file \(f) is missing"
        case let .incompleteTrainingSet(missing, present):
            let dir = (missing as NSString).deletingLastPathComponent
            return "data file \(missing) is missing: \(DataError.trainingFilesRule), but \(dir) holds only \(present.joined(separator: ", ")); was the download or unpacking interrupted?"
        case .unreadable(let f, let why): return "cannot read data file \(f): \(why)"
        case let .badSize(f, n):
            if n == 0 {
                return "data file \(f) is empty (0 bytes); expected whole 3073-byte CIFAR-10 records (1 label byte + 3072 pixels)"
            }
            return "data file \(f) has \(n) bytes, not a multiple of the 3073-byte CIFAR-10 record (1 label byte + 3072 pixels); is it the binary version?"
        case let .wrongSize(f, n, e):
            return "data file \(f) has \(n) bytes but every file of the full CIFAR-10 set has exactly \(e) (10,000 records of 3073 bytes); the download or unpacking was probably truncated: fetch and unpack cifar-10-binary.tar.gz again"
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
    /// Class names by label (saved with a model; the header of confusion matrices). Default "0", "1", ….
    public let classNames: [String]
    /// The per-feature value subtracted from every raw input row (CIFAR-10: the training split's
    /// mean image), saved with a model so that `runner predict` prepares new rows the same way;
    /// nil when the rows are not raw values minus a mean (synthetic data).
    public let inputMean: [Float]?
    public init(train: Split, val: Split, test: Split, numClasses: Int, source: String,
                classNames: [String]? = nil, inputMean: [Float]? = nil) {
        self.train = train; self.val = val; self.test = test; self.numClasses = numClasses; self.source = source
        self.classNames = classNames ?? (0..<numClasses).map { String($0) }
        self.inputMean = inputMean
    }
    public var sampleShape: [Int] { train.sampleShape }
}

/// Reads CIFAR-10 in the official binary layout.
///
/// A data folder holds `test_batch.bin` and either all five training files
/// `data_batch_1.bin … data_batch_5.bin` (the full set: every file, `test_batch.bin` included,
/// is exactly 10,000 records = 30,730,000 bytes) or `data_batch_1.bin` alone (a sample such as
/// `data/cifar10-sample`: each file any whole, non-zero number of 3,073-byte records). Anything
/// else (a missing middle file, two of five files, a truncated file, …) is a `DataError` naming
/// the file, never a silently smaller data set.
public enum CIFAR10 {
    public static let recordSize = 3073
    public static let imageShape = [3, 32, 32]
    public static let trainFiles = (1...5).map { "data_batch_\($0).bin" }
    public static let testFile = "test_batch.bin"
    /// The labels' names, in label order (`batches.meta.txt` of the official download).
    public static let classNames = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]
    /// Records in each file of the full set.
    public static let fullFileRecords = 10_000
    /// Bytes of each file of the full set (30,730,000).
    public static let fullFileBytes = fullFileRecords * recordSize

    private static func errnoText(_ code: Int32) -> String { String(cString: strerror(code)) }

    /// Whether something (file, folder, even a broken link) is at `path`. Errors other than
    /// "no such file" (e.g. permission denied) count as present, so reading it reports them.
    private static func exists(_ path: String) -> Bool {
        var st = stat()
        if lstat(path, &st) == 0 { return true }
        return errno != ENOENT && errno != ENOTDIR
    }

    /// Checks, without reading it, that `path` is a regular file of a whole, non-zero number
    /// of records (exactly `expectedBytes` long when given) and returns its size in bytes.
    public static func checkedSize(path: String, expectedBytes: Int? = nil) throws -> Int {
        var st = stat()
        guard stat(path, &st) == 0 else {
            let code = errno
            if code == ENOENT || code == ENOTDIR {
                var link = stat()
                if lstat(path, &link) == 0 { throw DataError.unreadable(path, "it is a symbolic link to a file that does not exist") }
                throw DataError.missingFile(path)
            }
            throw DataError.unreadable(path, errnoText(code))
        }
        let type = st.st_mode & S_IFMT
        if type == S_IFDIR { throw DataError.unreadable(path, "it is a folder, not a file") }
        guard type == S_IFREG else { throw DataError.unreadable(path, "it is not a regular file") }
        let bytes = Int(st.st_size)
        guard bytes > 0 else { throw DataError.badSize(file: path, bytes: bytes) }
        if let expected = expectedBytes, bytes != expected {
            throw DataError.wrongSize(file: path, bytes: bytes, expected: expected)
        }
        guard bytes % recordSize == 0 else { throw DataError.badSize(file: path, bytes: bytes) }
        return bytes
    }

    /// Raw records of one file: labels and pixel bytes, checked. The file must pass
    /// `checkedSize` and every label read must be 0…9. At most `limit` records are read.
    public static func readRecords(path: String, limit: Int = .max, expectedBytes: Int? = nil) throws -> (labels: [Int32], pixels: [UInt8]) {
        let bytes = try checkedSize(path: path, expectedBytes: expectedBytes)
        let n = min(bytes / recordSize, max(limit, 0))

        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { throw DataError.unreadable(path, errnoText(errno)) }
        defer { close(fd) }
        let want = n * recordSize
        var raw = [UInt8](repeating: 0, count: want)
        var got = 0
        try raw.withUnsafeMutableBytes { buf in
            while got < want {
                let r = read(fd, buf.baseAddress! + got, want - got)
                if r < 0 {
                    if errno == EINTR { continue }
                    throw DataError.unreadable(path, errnoText(errno))
                }
                if r == 0 { throw DataError.unreadable(path, "the file ended after \(got) of \(bytes) bytes (did it change while being read?)") }
                got += r
            }
        }

        var labels = [Int32](repeating: 0, count: n)
        var pixels = [UInt8](repeating: 0, count: n * 3072)
        try raw.withUnsafeBytes { (b: UnsafeRawBufferPointer) in
            try pixels.withUnsafeMutableBufferPointer { px in
                for r in 0..<n {
                    let label = Int(b[r * recordSize])
                    guard label < 10 else { throw DataError.labelOutOfRange(file: path, record: r, label: label) }
                    labels[r] = Int32(label)
                    UnsafeMutableRawPointer(px.baseAddress! + r * 3072)
                        .copyMemory(from: b.baseAddress! + r * recordSize + 1, byteCount: 3072)
                }
            }
        }
        return (labels, pixels)
    }

    /// Loads the standard split (SPEC §1) from a folder laid out as described on `CIFAR10`:
    /// the full set (`data_batch_1.bin … data_batch_5.bin`, 10,000 records each) or a sample
    /// (`data_batch_1.bin` alone); any other combination of training files, or a full-set file
    /// of the wrong size, throws. The training files are read in order; the last `numVal` of
    /// the training rows are the validation split and the rows before them the training split
    /// (49,000 rows on the full set), of which the first `numTrain` are used (all when nil).
    /// The per-pixel mean image of the whole training split is subtracted from train, val and
    /// test. Test is the first `numTest` rows of `test_batch.bin` (not read when 0).
    public static func load(directory: String, numTrain: Int?, numVal: Int = 1000, numTest: Int = 1000) throws -> Dataset {
        var st = stat()
        if stat(directory, &st) == 0 {
            guard st.st_mode & S_IFMT == S_IFDIR else { throw DataError.notADirectory(directory) }
        } else if errno == ENOENT || errno == ENOTDIR {
            throw DataError.missingDirectory(directory)
        }   // other failures (permission denied) surface, with their reason, on the first file
        let paths = trainFiles.map { (directory as NSString).appendingPathComponent($0) }
        let present = paths.map(exists)
        guard present[0] else { throw DataError.missingFile(paths[0]) }
        let fullSet = present.allSatisfy { $0 }
        if !fullSet, let firstMissing = present.firstIndex(of: false), present.dropFirst().contains(true) {
            throw DataError.incompleteTrainingSet(missing: paths[firstMissing],
                                                  present: zip(trainFiles, present).filter(\.1).map(\.0))
        }
        let expectedBytes: Int? = fullSet ? fullFileBytes : nil
        let trainPaths = fullSet ? paths : [paths[0]]
        let testPath = (directory as NSString).appendingPathComponent(testFile)
        // The type and size of every training file first, so a bad one fails before any reading.
        for path in trainPaths { _ = try checkedSize(path: path, expectedBytes: expectedBytes) }
        var labels: [Int32] = []
        var pixels: [UInt8] = []
        for path in trainPaths {
            let (l, p) = try readRecords(path: path, expectedBytes: expectedBytes)
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
        // The test rows, read (and checked) before the work on the training rows.
        var testRows: (labels: [Int32], pixels: [UInt8])?
        if numTest > 0 {
            let rows = try readRecords(path: testPath, limit: numTest, expectedBytes: expectedBytes)
            guard rows.labels.count >= numTest else {
                throw DataError.notEnoughRows(directory: directory, needed: numTest, available: rows.labels.count, what: "test")
            }
            testRows = rows
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
        let test = testRows.map { split($0.pixels, $0.labels, from: 0, count: numTest) } ?? Split(x: [], y: [], sampleShape: imageShape)
        return Dataset(train: train, val: val, test: test, numClasses: 10, source: directory, classNames: classNames, inputMean: meanF)
    }
}

/// `data.source: "cifar10"`: the official binary layout in `data.dir` (see `load`).
public struct CIFAR10Source: DataSource {
    public static let name = "cifar10"
    public static let summary = "cifar10: the binary CIFAR-10 files in `dir`"
    public static let usesDirectory = true
    public static let sampleShape = CIFAR10.imageShape
    public static let numClasses = 10
    /// At most the 50,000 records of the training files (test: at most 10,000); while
    /// loading, every training record and the test rows are also held as raw bytes.
    public static func rowBound(_ r: DataRequest) -> DataRows {
        let files = 50_000, val = min(r.numVal, files), test = min(r.numTest, 10_000)
        return DataRows(train: min(r.numTrain ?? files - val, files - val), val: val, test: test, loadingExtra: files + test)
    }
    public static func load(_ r: DataRequest) throws -> Dataset {
        try CIFAR10.load(directory: r.directory, numTrain: r.numTrain, numVal: r.numVal, numTest: r.numTest)
    }
}
