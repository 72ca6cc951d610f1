/// The data-source registry: every `data.source` a config can name, each described by one
/// `DataSource` type declared in its reader's own file (config name, whether it reads
/// `data.dir`, the per-sample shape and class count known before reading anything, a bound
/// on the rows it holds, and the loader). The config schema, shape checks, the memory
/// estimate, trial identity and the data cache all go through here.
///
/// Adding a reader: write its file (the reader and its `DataSource`) and add the type to
/// `DataSources.all` below. Swift has no load-time hook a file could use to register
/// itself, so that one line is the registration.
public enum DataSources {
    public static let all: [any DataSource.Type] = [CIFAR10Source.self, SyntheticSource.self]

    public static var names: [String] { all.map { $0.name } }

    public static func named(_ name: String) -> (any DataSource.Type)? { all.first { $0.name == name } }
}

/// What a config asks of its data source.
public struct DataRequest: Sendable, Hashable {
    public var directory: String
    public var numTrain: Int?
    public var numVal: Int
    public var numTest: Int
    public init(directory: String, numTrain: Int?, numVal: Int, numTest: Int) {
        self.directory = directory; self.numTrain = numTrain; self.numVal = numVal; self.numTest = numTest
    }
}

/// Upper bounds on the rows a source holds once loaded, and on the rows it holds in raw form
/// while loading (for the memory estimate).
public struct DataRows: Sendable, Equatable {
    public var train: Int, val: Int, test: Int
    public var loadingExtra: Int
    public init(train: Int, val: Int, test: Int, loadingExtra: Int) {
        self.train = train; self.val = val; self.test = test; self.loadingExtra = loadingExtra
    }
}

/// One kind of data a config can name in `data.source`.
public protocol DataSource: Sendable {
    /// The config name (`data.source`).
    static var name: String { get }
    /// One line for the schema's documentation of `data.source`.
    static var summary: String { get }
    /// Whether the source reads `data.dir` (and `--data`); when not, the folder is not part
    /// of a trial's identity.
    static var usesDirectory: Bool { get }
    /// Per-sample input shape, known before anything is read.
    static var sampleShape: [Int] { get }
    static var numClasses: Int { get }
    static func rowBound(_ request: DataRequest) -> DataRows
    /// Reads (or makes) the data; errors name the file.
    static func load(_ request: DataRequest) throws -> Dataset
}
