import Foundation

/// `data.source: "synthetic"`: seeded Gaussian blobs (tests and smoke runs); `data.dir` is
/// not used.
public struct SyntheticSource: DataSource {
    public static let name = "synthetic"
    public static let summary = "synthetic: seeded Gaussian blobs (tests, smoke runs)"
    public static let usesDirectory = false
    public static let defaultPreprocess = Preprocess.none
    public static let sampleShape = [3, 8, 8]
    public static let numClasses = 10
    /// Rows when `num_train` is not given.
    public static let defaultTrainRows = 1000
    public static func inspect(_ r: DataRequest) throws -> DataShape {
        DataShape(sampleShape: sampleShape, numClasses: numClasses, trainRows: (r.numTrain ?? defaultTrainRows) + r.numVal,
                  testRows: r.numTest ?? 1000, bytesPerElement: 4, origin: "synthetic")
    }
    public static func read(_ r: DataRequest) throws -> RawData {
        let d = SyntheticData.blobs(seed: 12345, numTrain: r.numTrain ?? defaultTrainRows, numVal: r.numVal, numTest: r.numTest ?? 1000,
                                    classes: numClasses, sampleShape: sampleShape)
        // Training rows then validation rows, as the other sources deliver them.
        let rows = LabeledRows(store: SampleStore(floats: d.train.x + d.val.x, rowSize: d.train.rowSize), labels: d.train.y + d.val.y)
        return RawData(train: rows, test: LabeledRows(store: d.test.store, labels: d.test.y), shape: try inspect(r))
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
