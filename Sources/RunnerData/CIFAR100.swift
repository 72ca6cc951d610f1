import Foundation

/// `data.source: "cifar100"`: CIFAR-100 in its binary layout in `data.dir`: `train.bin` and
/// `test.bin` of 3,074-byte records (coarse label byte, fine label byte, 3,072 pixel bytes,
/// as CIFAR-10: 3×32×32, channel-major), with `fine_label_names.txt` and
/// `coarse_label_names.txt` (one name a line) giving the class names when present.
/// `data.label` picks the label: `fine` (100 classes, the default) or `coarse` (20).
/// Splits as CIFAR-10: the last `num_val` rows of train.bin validate.
public struct CIFAR100Source: DataSource {
    public static let name = "cifar100"
    public static let summary = "cifar100: the binary CIFAR-100 files (train.bin, test.bin) in `dir`; `label` fine or coarse"
    public static let usesDirectory = true
    public static let options = ["label"]
    public static let defaultPreprocess = Preprocess.subtractMean
    public static let recordSize = 3074
    public static let trainFile = "train.bin", testFile = "test.bin"

    static func classes(_ r: DataRequest) -> Int { r.label == "coarse" ? 20 : 100 }

    /// Class names from `<label>_label_names.txt` when it has one name per class, else "0", "1", ….
    static func names(_ r: DataRequest) -> [String]? {
        let path = (r.directory as NSString).appendingPathComponent("\(r.label)_label_names.txt")
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return nil }
        let names = text.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        return names.count == classes(r) ? names : nil
    }

    /// A regular file of whole, non-zero records; its record count.
    static func records(_ path: String) throws -> Int {
        let bytes = try DataFile.size(path)
        guard bytes > 0, bytes % recordSize == 0 else {
            throw DataError.malformed(file: path, position: "byte \(bytes - bytes % recordSize)",
                                      message: "the file has \(bytes) bytes, not a whole non-zero number of 3074-byte CIFAR-100 records (coarse label, fine label, 3072 pixels); is it the binary version?")
        }
        return bytes / recordSize
    }

    public static func inspect(_ r: DataRequest) throws -> DataShape {
        let dir = r.directory
        let train = try records((dir as NSString).appendingPathComponent(trainFile))
        let testPath = (dir as NSString).appendingPathComponent(testFile)
        let test = r.numTest == 0 ? 0 : try records(testPath)
        return DataShape(sampleShape: CIFAR10.imageShape, numClasses: classes(r), classNames: names(r), trainRows: train, testRows: test,
                         bytesPerElement: 1, loadingBytes: 1000 * recordSize, origin: "cifar100 (\(r.label) labels) in \(dir)")
    }

    public static func read(_ r: DataRequest) throws -> RawData {
        var st = stat()
        if stat(r.directory, &st) != 0 { throw DataError.malformed(file: r.directory, position: "data.dir", message: "the folder does not exist (expected CIFAR-100's train.bin and test.bin)") }
        let shape = try inspect(r)
        let layout = RecordLayout(recordSize: recordSize, labelOffset: r.label == "coarse" ? 0 : 1, classes: shape.numClasses)
        func rows(_ file: String, _ n: Int) throws -> LabeledRows {
            let store = SampleStore(allocating: .uint8, rows: n, rowSize: 3072)
            let labels = try layout.read((r.directory as NSString).appendingPathComponent(file), records: n, into: store, at: 0)
            return LabeledRows(store: store, labels: labels)
        }
        let train = try rows(trainFile, shape.trainRows)
        let wanted = r.numTest ?? shape.testRows
        guard wanted <= shape.testRows else {
            throw DataError.tooFewRows(file: (r.directory as NSString).appendingPathComponent(testFile), needed: wanted, available: shape.testRows, what: "test")
        }
        return RawData(train: train, test: wanted > 0 ? try rows(testFile, wanted) : nil, shape: shape)
    }
}
