import Foundation
@_exported import RunnerKernels

/// What went wrong reading a dataset; every case names the file (or folder) involved, as
/// the full path that was tried.
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
    /// A file that is not what its format says: `position` is where (a byte offset, a
    /// record, a line and column, an array element), `message` what is wrong there.
    case malformed(file: String, position: String, message: String)
    /// A data file with fewer rows than the config asks for.
    case tooFewRows(file: String, needed: Int, available: Int, what: String)

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
        case let .malformed(f, pos, m): return "data file \(f): \(pos): \(m)"
        case let .tooFewRows(f, need, have, what):
            return "data file \(f) holds \(have) \(what) rows but the config needs \(need)"
        }
    }
}

/// The files of one split as a config names them: one path (`"train.csv"`, `"train.npz"`)
/// under the key `""`, or named parts (`{"images": …, "labels": …}`, `{"X": …, "y": …}`).
/// Paths are absolute by the time a reader sees them (see `DataRequest.resolvingPaths`).
public struct DataFiles: Sendable, Hashable {
    public var paths: [String: String]
    public init(_ paths: [String: String]) { self.paths = paths }
    public init(single path: String) { paths = ["": path] }
    public var single: String? { paths[""] }
    public subscript(_ key: String) -> String? { paths[key] }
}

/// How a source expects `data.train` / `data.test` / `data.val` written.
public enum DataFileForm: Sendable, Equatable {
    /// One path (a CSV table).
    case single
    /// An object of these keys, each a path (IDX: `images`, `labels`).
    case parts([String])
    /// One path (an archive holding the parts) or the object of parts (npy: `.npz` or `{"X", "y"}`).
    case singleOrParts([String])
}

/// Preprocessing of the inputs (SPEC §1 for `subtract_mean`), always fitted on the
/// training split (every training row before the validation rows):
/// - `subtract_mean`: x − mean image (per element), the course's CIFAR preprocessing;
/// - `standardize`: (x − μ_c) / σ_c per channel of an image, per feature of a table
///   (σ the population standard deviation; a constant channel keeps σ = 1);
/// - `scale`: (x − lo) / (hi − lo) into [0, 1]; lo, hi = 0, 255 for byte data, the
///   per-channel/feature minimum and maximum of the training split for float data;
/// - `none`: the values as stored.
public enum Preprocess: String, Sendable, CaseIterable, Hashable {
    case subtractMean = "subtract_mean", standardize, scale, none
}

/// What a config asks of its data source. Relative paths in it resolve against the
/// working directory (`resolvingPaths`), like `data.dir` and `output.dir`.
public struct DataRequest: Sendable, Hashable {
    public var directory: String
    public var numTrain: Int?
    public var numVal: Int
    /// Test rows: the first `numTest` rows of the test source; nil: all of them.
    public var numTest: Int?
    /// `train`, `test` and `val` files of file-based sources (`val` optional).
    public var files: [String: DataFiles] = [:]
    /// CIFAR-100's label kind: `fine` or `coarse`.
    public var label = "fine"
    /// The CSV column holding the class.
    public var labelColumn = "label"
    /// nil: the source's default (`DataSource.defaultPreprocess`).
    public var preprocess: Preprocess? = nil
    public init(directory: String, numTrain: Int?, numVal: Int, numTest: Int?) {
        self.directory = directory; self.numTrain = numTrain; self.numVal = numVal; self.numTest = numTest
    }

    /// The request with every relative path (folder and files) made absolute against the
    /// working directory, so every error names the full path it tried.
    public func resolvingPaths(in workingDirectory: String = FileManager.default.currentDirectoryPath) -> DataRequest {
        var r = self
        r.directory = absolutePath(directory, in: workingDirectory)
        r.files = files.mapValues { DataFiles($0.paths.mapValues { absolutePath($0, in: workingDirectory) }) }
        return r
    }
}

/// `path` made absolute against `base` ("." parts and a trailing "/" dropped; ".." kept as written).
public func absolutePath(_ path: String, in base: String) -> String {
    if path.isEmpty { return path }
    let full = path.hasPrefix("/") ? path : (base.hasSuffix("/") ? base : base + "/") + path
    let parts = full.split(separator: "/", omittingEmptySubsequences: true).filter { $0 != "." }
    return "/" + parts.joined(separator: "/")
}

/// What a data set is, read from its headers and labels (or known without reading for
/// CIFAR and synthetic data): checked against the model before anything is allocated and
/// used by the cost and memory estimates.
public struct DataShape: Sendable, Equatable {
    /// Per-sample shape: (C, H, W) for images ((N, H, W) data gets C = 1), (D) for tables.
    public var sampleShape: [Int]
    public var numClasses: Int
    /// Class names in class order (the CSV's label strings, CIFAR's names, else "0", "1", …).
    public var classNames: [String]
    /// Rows of the training source (before the validation rows are split off).
    public var trainRows: Int
    /// Rows of the test source (0 when there is none).
    public var testRows: Int
    /// Rows of `data.val` when it names its own file.
    public var valRows: Int?
    /// Bytes one stored element takes (1 for byte images, 4 for float data).
    public var bytesPerElement: Int
    /// Transient bytes held while loading (read buffers, compressed files).
    public var loadingBytes: Int = 0
    /// The source and where it reads, for messages ("idx /data/train-images-idx3-ubyte").
    public var origin: String

    public init(sampleShape: [Int], numClasses: Int, classNames: [String]? = nil, trainRows: Int, testRows: Int, valRows: Int? = nil,
                bytesPerElement: Int, loadingBytes: Int = 0, origin: String) {
        self.sampleShape = sampleShape; self.numClasses = numClasses
        self.classNames = classNames ?? (0..<numClasses).map(String.init)
        self.trainRows = trainRows; self.testRows = testRows; self.valRows = valRows
        self.bytesPerElement = bytesPerElement; self.loadingBytes = loadingBytes; self.origin = origin
    }

    public var rowSize: Int { sampleShape.reduce(1, *) }
    /// "1×8×8"
    public var shapeText: String { sampleShape.map(String.init).joined(separator: "×") }
}

/// Rows a request takes from a data set of this shape (the validation rows come off the
/// end of the training source unless `data.val` names its own file; nil test = all).
public struct DataRows: Sendable, Equatable {
    public var train: Int, val: Int, test: Int
    public init(train: Int, val: Int, test: Int) { self.train = train; self.val = val; self.test = test }
    public init(_ s: DataShape, _ r: DataRequest) {
        let pool = s.valRows == nil ? max(s.trainRows - r.numVal, 0) : s.trainRows
        self.init(train: min(r.numTrain ?? pool, pool), val: min(r.numVal, s.valRows ?? s.trainRows), test: min(r.numTest ?? s.testRows, s.testRows))
    }
}

/// The rows a reader returns for one split: stored values (bytes or floats) and labels.
public struct LabeledRows: Sendable {
    public let store: SampleStore
    public let labels: [Int32]
    public init(store: SampleStore, labels: [Int32]) {
        precondition(store.rowCount == labels.count)
        self.store = store; self.labels = labels
    }
    public var count: Int { labels.count }
}

/// What a reader returns: the training source (validation rows included unless `val` is
/// given), the test source (nil when no test rows are asked for) and the class names.
public struct RawData: Sendable {
    public var train: LabeledRows
    public var val: LabeledRows?
    public var test: LabeledRows?
    public var shape: DataShape
    public init(train: LabeledRows, val: LabeledRows? = nil, test: LabeledRows?, shape: DataShape) {
        self.train = train; self.val = val; self.test = test; self.shape = shape
    }
}

/// One kind of data a config can name in `data.source`: a reader in its own file.
public protocol DataSource: Sendable {
    /// The config name (`data.source`).
    static var name: String { get }
    /// One line for the schema's documentation of `data.source`.
    static var summary: String { get }
    /// Whether the source reads `data.dir` (and `--data`); when not, the folder is not part
    /// of a trial's identity.
    static var usesDirectory: Bool { get }
    /// How `data.train`/`data.test`/`data.val` are written (nil: the source reads none).
    static var fileForm: DataFileForm? { get }
    /// Source-specific `data` fields it reads (`label`, `label_column`).
    static var options: [String] { get }
    static var defaultPreprocess: Preprocess { get }
    /// Shape, classes and row counts, from headers and labels only (cheap); errors name the file.
    static func inspect(_ request: DataRequest) throws -> DataShape
    /// Reads the rows (`DataSources.load` splits and preprocesses them); errors name the file.
    static func read(_ request: DataRequest) throws -> RawData
}

extension DataSource {
    public static var fileForm: DataFileForm? { nil }
    public static var options: [String] { [] }
    public static var defaultPreprocess: Preprocess { .standardize }
    /// The files of split `key` (`train`, `test`, `val`); validation makes `train` and `test` present.
    static func files(_ r: DataRequest, _ key: String) throws -> DataFiles {
        guard let f = r.files[key] else { throw DataError.malformed(file: "(none)", position: "data.\(key)", message: "\(name) needs data.\(key)") }
        return f
    }
}

/// The data-source registry: every `data.source` a config can name, each described by one
/// `DataSource` type declared in its reader's own file. The config schema, shape checks,
/// the memory and cost estimates, trial identity and the data cache all go through here.
///
/// Adding a reader: write its file (the reader and its `DataSource`) and add the type to
/// `DataSources.all` below. Swift has no load-time hook a file could use to register
/// itself, so that one line is the registration.
public enum DataSources {
    public static let all: [any DataSource.Type] = [CIFAR10Source.self, CIFAR100Source.self, IDXSource.self, NPYSource.self,
                                                    CSVSource.self, SyntheticSource.self]

    public static var names: [String] { all.map { $0.name } }

    public static func named(_ name: String) -> (any DataSource.Type)? { all.first { $0.name == name } }

    nonisolated(unsafe) private static var memo: [String: Result<DataShape, DataError>] = [:]
    private static let memoLock = NSLock()

    /// `source.inspect(request)`, remembered per request and per size and modification time
    /// of its files (a sweep of 1,000 trials reads the headers once).
    public static func inspect(_ source: any DataSource.Type, _ request: DataRequest) throws(DataError) -> DataShape {
        var key = "\(source.name)|\(request)"
        for (split, f) in request.files.sorted(by: { $0.key < $1.key }) {
            for (part, p) in f.paths.sorted(by: { $0.key < $1.key }) {
                var st = stat()
                let sig = stat(p, &st) == 0 ? "\(st.st_size).\(st.st_mtim.tv_sec).\(st.st_mtim.tv_nsec)" : "-"
                key += "|\(split).\(part)=\(p)@\(sig)"
            }
        }
        if let known = memoLock.withLock({ memo[key] }) { return try known.get() }
        let result: Result<DataShape, DataError>
        do { result = .success(try source.inspect(request)) }
        catch let e as DataError { result = .failure(e) }
        catch { result = .failure(.unreadable(request.files["train"]?.paths.values.first ?? request.directory, "\(error)")) }
        memoLock.withLock { memo[key] = result }
        return try result.get()
    }

    /// Reads the data, splits it (the last `numVal` training rows are the validation split
    /// unless `data.val` is given; the first `numTrain` of the rows before them train) and
    /// fits the preprocessing on the training split. Errors name the file.
    public static func load(_ source: any DataSource.Type, _ request: DataRequest) throws -> Dataset {
        let raw = try source.read(request)
        return try assemble(raw, request, preprocess: request.preprocess ?? source.defaultPreprocess)
    }
}
