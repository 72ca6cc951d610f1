import Foundation

/// Reads CIFAR-10 in the official binary layout.
///
/// A data folder holds `test_batch.bin` and either all five training files
/// `data_batch_1.bin … data_batch_5.bin` (the full set: every file, `test_batch.bin` included,
/// is exactly 10,000 records = 30,730,000 bytes) or `data_batch_1.bin` alone (a sample such as
/// `data/cifar10-sample`: each file any whole, non-zero number of 3,073-byte records). Anything
/// else (a missing middle file, two of five files, a truncated file, …) is a `DataError` naming
/// the file, never a silently smaller data set. Pixels stay bytes (150 MB for the 50,000
/// training images rather than 600 MB as Float32) until a batch needs them.
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

    /// Whether something (file, folder, even a broken link) is at `path`. Errors other than
    /// "no such file" (e.g. permission denied) count as present, so reading it reports them.
    static func exists(_ path: String) -> Bool {
        var st = stat()
        if lstat(path, &st) == 0 { return true }
        return errno != ENOENT && errno != ENOTDIR
    }

    /// Checks, without reading it, that `path` is a regular file of a whole, non-zero number
    /// of records (exactly `expectedBytes` long when given) and returns its size in bytes.
    public static func checkedSize(path: String, expectedBytes: Int? = nil) throws -> Int {
        let bytes = try DataFile.size(path)
        guard bytes > 0 else { throw DataError.badSize(file: path, bytes: bytes) }
        if let expected = expectedBytes, bytes != expected {
            throw DataError.wrongSize(file: path, bytes: bytes, expected: expected)
        }
        guard bytes % recordSize == 0 else { throw DataError.badSize(file: path, bytes: bytes) }
        return bytes
    }

    /// The folder checked (exists, is a folder) and its training files: the full set or the sample.
    static func trainingFiles(_ directory: String) throws -> (paths: [String], fullSet: Bool) {
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
        return (fullSet ? paths : [paths[0]], fullSet)
    }

    /// Reads the folder's rows as bytes (see `CIFAR10`): training records in file order,
    /// then the first `numTest` test records (all when nil; the file is not read when 0).
    static func read(_ r: DataRequest) throws -> RawData {
        let directory = r.directory
        let (trainPaths, fullSet) = try trainingFiles(directory)
        let expectedBytes: Int? = fullSet ? fullFileBytes : nil
        let testPath = (directory as NSString).appendingPathComponent(testFile)
        // The type and size of every training file first, so a bad one fails before any reading.
        let counts = try trainPaths.map { try checkedSize(path: $0, expectedBytes: expectedBytes) / recordSize }
        let available = counts.reduce(0, +)
        let layout = RecordLayout(recordSize: recordSize, labelOffset: 0, classes: 10)
        let store = SampleStore(allocating: .uint8, rows: available, rowSize: 3072)
        var labels: [Int32] = []
        labels.reserveCapacity(available)
        for (path, n) in zip(trainPaths, counts) { labels += try layout.read(path, records: n, into: store, at: labels.count) }
        try checkTrainingRows(available: available, r)
        var test: LabeledRows?
        let numTest = try r.numTest ?? (exists(testPath) ? checkedSize(path: testPath, expectedBytes: expectedBytes) / recordSize : 0)
        if numTest > 0 {
            let have = try checkedSize(path: testPath, expectedBytes: expectedBytes) / recordSize
            let n = min(have, numTest)
            let testStore = SampleStore(allocating: .uint8, rows: n, rowSize: 3072)
            let l = try layout.read(testPath, records: n, into: testStore, at: 0)
            guard n >= numTest else { throw DataError.notEnoughRows(directory: directory, needed: numTest, available: n, what: "test") }
            test = LabeledRows(store: testStore, labels: l)
        }
        let shape = DataShape(sampleShape: imageShape, numClasses: 10, classNames: classNames, trainRows: available, testRows: test?.count ?? 0,
                              bytesPerElement: 1, loadingBytes: layout.chunkBytes, origin: "cifar10 in \(directory)")
        return RawData(train: LabeledRows(store: store, labels: labels), test: test, shape: shape)
    }

    /// The CIFAR check of the training rows against the request (before the test file is read).
    static func checkTrainingRows(available: Int, _ r: DataRequest) throws {
        guard available - r.numVal > 0 else {
            throw DataError.notEnoughRows(directory: r.directory, needed: r.numVal + 1, available: available, what: "training")
        }
        if let n = r.numTrain, n > available - r.numVal {
            throw DataError.notEnoughRows(directory: r.directory, needed: n + r.numVal, available: available, what: "training")
        }
    }

    /// Loads the standard split (SPEC §1) from a folder laid out as described on `CIFAR10`:
    /// the last `numVal` of the training rows are the validation split and the rows before
    /// them the training split (49,000 rows on the full set), of which the first `numTrain`
    /// are used (all when nil). The per-pixel mean image of the whole training split is
    /// subtracted from train, val and test (when a batch is gathered). Test is the first
    /// `numTest` rows of `test_batch.bin` (not read when 0).
    public static func load(directory: String, numTrain: Int?, numVal: Int = 1000, numTest: Int = 1000) throws -> Dataset {
        try DataSources.load(CIFAR10Source.self, DataRequest(directory: directory, numTrain: numTrain, numVal: numVal, numTest: numTest))
    }

    /// Every record of one CIFAR-10-layout file (e.g. for `runner predict`): labels, and the
    /// pixels as bytes, `3072` per record; the file's size and labels checked as for training.
    public static func readRecords(path: String) throws -> (labels: [Int32], pixels: [UInt8]) {
        let n = try checkedSize(path: path) / recordSize
        let store = SampleStore(allocating: .uint8, rows: n, rowSize: 3072)
        let labels = try RecordLayout(recordSize: recordSize, labelOffset: 0, classes: 10).read(path, records: n, into: store, at: 0)
        let pixels = n == 0 ? [] : [UInt8](UnsafeRawBufferPointer(start: store.row(0), count: n * 3072))
        return (labels, pixels)
    }
}

/// Fixed-size records of a label byte (or two) and 3,072 pixel bytes (CIFAR-10 and CIFAR-100).
struct RecordLayout {
    let recordSize: Int
    /// Offset of the label byte used.
    let labelOffset: Int
    let classes: Int
    var pixelOffset: Int { recordSize - 3072 }
    /// Records read per system call.
    let chunkRecords = 1000
    var chunkBytes: Int { chunkRecords * recordSize }

    /// Reads `records` records of `path` into rows `at…` of `store` and returns their labels,
    /// checked to be below `classes` (CIFAR-10's own message for CIFAR-10).
    func read(_ path: String, records: Int, into store: SampleStore, at row: Int) throws -> [Int32] {
        var labels = [Int32](repeating: 0, count: records)
        var buffer = [UInt8](repeating: 0, count: min(records, chunkRecords) * recordSize)
        var done = 0
        while done < records {
            let n = min(chunkRecords, records - done)
            try buffer.withUnsafeMutableBytes { b in
                try DataFile.read(path, offset: done * recordSize, count: n * recordSize, into: b.baseAddress!, what: "\(records) records")
                for k in 0..<n {
                    let rec = b.baseAddress! + k * recordSize
                    let label = Int(rec.load(fromByteOffset: labelOffset, as: UInt8.self))
                    guard label < classes else {
                        if classes == 10 { throw DataError.labelOutOfRange(file: path, record: done + k, label: label) }
                        throw DataError.malformed(file: path, position: "record \(done + k)", message: "label \(label) is out of range, expected 0…\(classes - 1)")
                    }
                    labels[done + k] = Int32(label)
                    store.mutableRow(row + done + k).copyMemory(from: rec + pixelOffset, byteCount: 3072)
                }
            }
            done += n
        }
        return labels
    }
}

/// `data.source: "cifar10"`: the official binary layout in `data.dir` (see `CIFAR10`).
public struct CIFAR10Source: DataSource {
    public static let name = "cifar10"
    public static let summary = "cifar10: the binary CIFAR-10 files in `dir`"
    public static let usesDirectory = true
    public static let defaultPreprocess = Preprocess.subtractMean
    /// Known without reading: 3×32×32, 10 classes; the rows from the file sizes (the full
    /// set's 50,000/10,000 when the folder is not there yet: the run reports it).
    public static func inspect(_ r: DataRequest) throws -> DataShape {
        let d = r.directory
        let sizes = (CIFAR10.trainFiles + [CIFAR10.testFile]).map { name -> Int? in
            var st = stat()
            return stat((d as NSString).appendingPathComponent(name), &st) == 0 ? Int(st.st_size) / CIFAR10.recordSize : nil
        }
        let fullSet = sizes[0..<5].allSatisfy { $0 != nil } || sizes[0] == nil
        let train = fullSet ? 50_000 : sizes[0]!
        return DataShape(sampleShape: CIFAR10.imageShape, numClasses: 10, classNames: CIFAR10.classNames, trainRows: train,
                         testRows: fullSet ? 10_000 : sizes[5] ?? 0, bytesPerElement: 1,
                         loadingBytes: 1000 * CIFAR10.recordSize, origin: "cifar10 in \(d)")
    }
    public static func read(_ r: DataRequest) throws -> RawData { try CIFAR10.read(r) }
}
