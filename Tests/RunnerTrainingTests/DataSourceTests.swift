import XCTest
import Foundation
import RunnerTraining

/// The readers of the data-source registry on small files the tests write themselves
/// (IDX raw and gzip, npy/npz of each dtype, CSV with numeric and string labels, CIFAR-100
/// with both label kinds), the shipped digits, the preprocessing fits, and every malformed
/// file as a `DataError` naming the file and the position (messages pinned, table-driven).
final class DataSourceTests: XCTestCase {
    var dir = ""
    override func setUpWithError() throws {
        dir = NSTemporaryDirectory() + "runner-sources-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    }
    override func tearDown() { try? FileManager.default.removeItem(atPath: dir) }

    @discardableResult
    func write(_ name: String, _ bytes: [UInt8]) throws -> String {
        let p = dir + "/" + name
        try Data(bytes).write(to: URL(fileURLWithPath: p))
        return p
    }
    @discardableResult
    func write(_ name: String, text: String) throws -> String { try write(name, Array(text.utf8)) }

    // MARK: file builders

    static func idx(_ dims: [Int], dtype: UInt8 = 0x08, values: [UInt8]) -> [UInt8] {
        [0, 0, dtype, UInt8(dims.count)] + dims.flatMap { d in (0..<4).map { UInt8((d >> (8 * (3 - $0))) & 0xff) } } + values
    }
    /// gzip with stored deflate blocks (our own writer: the tests need no zlib).
    static func gzipStored(_ data: [UInt8]) -> [UInt8] {
        var out: [UInt8] = [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3]
        var chunks = stride(from: 0, to: data.count, by: 1000).map { Array(data[$0..<min($0 + 1000, data.count)]) }
        if chunks.isEmpty { chunks = [[]] }
        for (i, c) in chunks.enumerated() {
            let n = c.count
            out += [i == chunks.count - 1 ? 1 : 0, UInt8(n & 0xff), UInt8(n >> 8), UInt8(~n & 0xff), UInt8((~n >> 8) & 0xff)] + c
        }
        return out + le32(Inflate.crc32(data)) + le32(UInt32(data.count))
    }
    static func le32(_ v: UInt32) -> [UInt8] { (0..<4).map { UInt8((v >> (8 * $0)) & 0xff) } }
    static func npy(descr: String, shape: [Int], data: [UInt8], fortran: Bool = false) -> [UInt8] {
        let dims = shape.count == 1 ? "\(shape[0])," : shape.map(String.init).joined(separator: ", ")
        var header = "{'descr': '\(descr)', 'fortran_order': \(fortran ? "True" : "False"), 'shape': (\(dims)), }"
        while (10 + header.utf8.count + 1) % 64 != 0 { header += " " }
        header += "\n"
        let n = header.utf8.count
        return [0x93] + Array("NUMPY".utf8) + [1, 0, UInt8(n & 0xff), UInt8(n >> 8)] + Array(header.utf8) + data
    }
    static func bytes<T>(_ values: [T]) -> [UInt8] { values.withUnsafeBytes { Array($0) } }
    /// A zip of stored entries (what numpy.savez writes).
    static func zipStored(_ entries: [(String, [UInt8])]) -> [UInt8] {
        var out: [UInt8] = [], central: [UInt8] = []
        func le16(_ v: Int) -> [UInt8] { [UInt8(v & 0xff), UInt8((v >> 8) & 0xff)] }
        for (name, data) in entries {
            let offset = out.count, crc = le32(Inflate.crc32(data)), size = le32(UInt32(data.count)), n = Array(name.utf8)
            out += le32(0x0403_4b50) + le16(20) + le16(0) + le16(0) + le16(0) + le16(0) + crc + size + size + le16(n.count) + le16(0) + n + data
            central += le32(0x0201_4b50) + le16(20) + le16(20) + le16(0) + le16(0) + le16(0) + le16(0) + crc + size + size
                + le16(n.count) + le16(0) + le16(0) + le16(0) + le16(0) + le32(0) + le32(UInt32(offset)) + n
        }
        return out + central + le32(0x0605_4b50) + le16(0) + le16(0) + le16(entries.count) + le16(entries.count)
            + le32(UInt32(central.count)) + le32(UInt32(out.count)) + le16(0)
    }

    func request(_ files: [String: [String: String]], numVal: Int = 1, numTest: Int? = nil) -> DataRequest {
        var r = DataRequest(directory: dir, numTrain: nil, numVal: numVal, numTest: numTest)
        r.files = files.mapValues { DataFiles($0) }
        return r
    }
    func load(_ source: any DataSource.Type, _ r: DataRequest) throws -> Dataset { try DataSources.load(source, r) }

    // MARK: IDX

    func idxFiles(gzip: Bool) throws -> DataRequest {
        // 5 training images 2×3 (values 10·i + j), labels 0 1 2 0 1; 2 test images.
        let train = (0..<5).flatMap { i in (0..<6).map { UInt8(10 * i + $0) } }
        func z(_ b: [UInt8]) -> [UInt8] { gzip ? Self.gzipStored(b) : b }
        let s = gzip ? ".gz" : ""
        return request(["train": ["images": try write("tr-img\(s)", z(Self.idx([5, 2, 3], values: train))),
                                  "labels": try write("tr-lab\(s)", z(Self.idx([5], values: [0, 1, 2, 0, 1])))],
                        "test": ["images": try write("te-img\(s)", z(Self.idx([2, 2, 3], values: [UInt8](repeating: 7, count: 12)))),
                                 "labels": try write("te-lab\(s)", z(Self.idx([2], values: [2, 2])))]])
    }

    func testIDXRawAndGzipReadTheSame() throws {
        for gz in [false, true] {
            var r = try idxFiles(gzip: gz)
            r.preprocess = Preprocess.none
            let shape = try IDXSource.inspect(r)
            XCTAssertEqual(shape.sampleShape, [1, 2, 3]); XCTAssertEqual(shape.numClasses, 3)
            XCTAssertEqual(shape.trainRows, 5); XCTAssertEqual(shape.testRows, 2); XCTAssertEqual(shape.bytesPerElement, 1)
            let d = try load(IDXSource.self, r)
            XCTAssertEqual(d.train.count, 4); XCTAssertEqual(d.val.count, 1); XCTAssertEqual(d.test.count, 2, "num_test null: every test row")
            XCTAssertEqual(d.train.sampleShape, [1, 2, 3])
            XCTAssertEqual(d.train.y, [0, 1, 2, 0]); XCTAssertEqual(d.val.y, [1]); XCTAssertEqual(d.test.y, [2, 2])
            XCTAssertEqual(d.train.x, (0..<24).map { Float(10 * ($0 / 6) + $0 % 6) }, "gzip \(gz)")
            XCTAssertEqual(d.val.x, (0..<6).map { Float(40 + $0) })
            XCTAssertEqual(d.test.x, [Float](repeating: 7, count: 12))
            XCTAssertEqual(d.train.store.isMapped, !gz, "raw byte images are memory-mapped, gzip ones decompressed")
            XCTAssertEqual(d.train.store.element, .uint8, "images stay bytes")
        }
    }

    /// The shipped 8×8 digits: gzip files from Python's zlib (dynamic Huffman blocks), so
    /// our inflate decoder is checked on real compressed data. Counts from numpy.bincount.
    func testShippedDigits() throws {
        let base = repoRoot + "/data/digits/"
        var r = DataRequest(directory: "", numTrain: nil, numVal: 237, numTest: nil)
        r.files = ["train": DataFiles(["images": base + "train-images-idx3-ubyte.gz", "labels": base + "train-labels-idx1-ubyte.gz"]),
                   "test": DataFiles(["images": base + "test-images-idx3-ubyte.gz", "labels": base + "test-labels-idx1-ubyte.gz"])]
        r.preprocess = Preprocess.none
        let d = try load(IDXSource.self, r)
        XCTAssertEqual(d.sampleShape, [1, 8, 8]); XCTAssertEqual(d.numClasses, 10)
        XCTAssertEqual([d.train.count, d.val.count, d.test.count], [1200, 237, 360])
        let all = d.train.y + d.val.y
        XCTAssertEqual((0..<10).map { c in all.filter { $0 == c }.count }, [143, 146, 142, 146, 144, 145, 144, 143, 141, 143])
        XCTAssertEqual((0..<10).map { c in d.test.y.filter { $0 == c }.count }, [35, 36, 35, 37, 37, 37, 37, 36, 33, 37])
        XCTAssertEqual((d.train.x + d.val.x).reduce(0, +), 449_372)
        XCTAssertEqual(d.train.x.prefix(64).reduce(0, +), 294)
    }

    func testInflateFixedHuffmanFixture() throws {
        // Python: gzip.compress(b"abcabcabcabcabcabc hello hello", mtime=0) (a fixed-Huffman block).
        let gz = [UInt8](Data(base64Encoded: "H4sIAAAAAAAC/0tMSk5ERQoZqTk5+RASAI7ckRseAAAA")!)
        XCTAssertEqual(String(decoding: try Inflate.gunzip(gz), as: UTF8.self), "abcabcabcabcabcabc hello hello")
        var cut = gz; cut.removeLast(6)
        XCTAssertThrowsError(try Inflate.gunzip(cut))
        var flipped = gz; flipped[14] ^= 0x40
        XCTAssertThrowsError(try Inflate.gunzip(flipped), "a corrupted byte fails decoding or the CRC")
    }

    // MARK: npy / npz

    func testNPYEachDtypeAndNPZ() throws {
        let values: [Double] = [0, 1.5, -2, 3, 4.25, 5, 6, 7, 8, 9, 10, 11]   // 4 rows × 3
        let xs: [(String, [UInt8])] = [("|u1", values.map { UInt8(max($0, 0)) }), ("<f4", Self.bytes(values.map { Float($0) })), ("<f8", Self.bytes(values))]
        for (descr, data) in xs {
            for labelDescr in ["|u1", "<i8"] {
                let y: [UInt8] = labelDescr == "|u1" ? [0, 1, 1, 0] : Self.bytes([Int64(0), 1, 1, 0])
                let xFile = Self.npy(descr: descr, shape: [4, 3], data: data), yFile = Self.npy(descr: labelDescr, shape: [4], data: y)
                for form in ["pair", "npz"] {
                    let tag = "\(descr.dropFirst())-\(labelDescr.dropFirst())-\(form)"
                    let files: [String: String] = form == "pair"
                        ? ["X": try write("X-\(tag).npy", xFile), "y": try write("y-\(tag).npy", yFile)]
                        : ["": try write("d-\(tag).npz", Self.zipStored([("X.npy", xFile), ("y.npy", yFile)]))]
                    var r = request(["train": files, "test": files], numVal: 1, numTest: 2)
                    r.preprocess = Preprocess.none
                    let d = try load(NPYSource.self, r)
                    let expected = descr == "|u1" ? values.map { Float(UInt8(max($0, 0))) } : values.map { Float($0) }
                    XCTAssertEqual(d.sampleShape, [3], tag); XCTAssertEqual(d.numClasses, 2, tag)
                    XCTAssertEqual(d.train.x, Array(expected[0..<9]), tag); XCTAssertEqual(d.val.x, Array(expected[9..<12]), tag)
                    XCTAssertEqual(d.train.y, [0, 1, 1], tag); XCTAssertEqual(d.test.y, [0, 1], tag)
                    XCTAssertEqual(d.train.store.isMapped, descr != "<f8", "\(tag): uint8 and float32 arrays are mapped in place, float64 converted")
                }
            }
        }
    }

    func testNPZDeflatedFromNumpy() throws {
        // Python: numpy.savez_compressed(f, X=float32 [[0.5, -1, 2], [3.25, 4, -0.125]], y=int64 [1, 0])
        // (numpy 2 writes zip64 local headers; the central directory has the sizes).
        let b64 = "UEsDBC0AAAAIAAAAIQCneBnT//////////8FABQAWC5ucHkBABAAmAAAAAAAAABaAAAAAAAAAJvsF+obEMnIUMZQrZ6SWpxcpG6loG6TZqKuo6Cell9UUpSYF59flJIKEndLzClOBYoXZyQWpAL5GkY6CsaaOgq1CmQDLgYGBnsGhob9QNqBgSEAiBuAmGEfAFBLAwQtAAAACAAAACEAcfs5q///////////BQAUAHkubnB5AQAQAJAAAAAAAAAASAAAAAAAAACb7BfqGxDJyFDGUK2eklqcXKRupaBuk2mhrqOgnpZfVFKUmBefX5SSChJ3S8wpTgWKF2ckFqQC+RpGOpo6CrUKFAAuRgZUAABQSwECLQMtAAAACAAAACEAp3gZ01oAAACYAAAABQAAAAAAAAAAAAAAgAEAAAAAWC5ucHlQSwECLQMtAAAACAAAACEAcfs5q0gAAACQAAAABQAAAAAAAAAAAAAAgAGRAAAAeS5ucHlQSwUGAAAAAAIAAgBmAAAAEAEAAAAA"
        let p = try write("c.npz", [UInt8](Data(base64Encoded: b64)!))
        var r = request(["train": ["": p]], numVal: 1, numTest: 0)
        r.preprocess = Preprocess.none
        let d = try load(NPYSource.self, r)
        XCTAssertEqual(d.train.x, [0.5, -1, 2]); XCTAssertEqual(d.val.x, [3.25, 4, -0.125])
        XCTAssertEqual(d.train.y, [1]); XCTAssertEqual(d.val.y, [0])
    }

    func testNPYImagesOfShapeNHWReachTheModelAsOneChannel() throws {
        let x = Self.npy(descr: "|u1", shape: [3, 2, 2], data: [UInt8](repeating: 1, count: 12))
        let y = Self.npy(descr: "<i4", shape: [3], data: Self.bytes([Int32(0), 1, 2]))
        let r = request(["train": ["X": try write("x.npy", x), "y": try write("y.npy", y)]], numVal: 1, numTest: 0)
        XCTAssertEqual(try NPYSource.inspect(r).sampleShape, [1, 2, 2])
    }

    // MARK: CSV

    func testCSVNumericAndStringLabels() throws {
        let train = try write("t.csv", text: "a,label,b\n1,0,2\n3,2,4\n\n5,1,6\r\n7,0,8\n")
        var r = request(["train": ["": train], "test": ["": train]], numVal: 1)
        r.preprocess = Preprocess.none
        var d = try load(CSVSource.self, r)
        XCTAssertEqual(d.sampleShape, [2]); XCTAssertEqual(d.numClasses, 3); XCTAssertEqual(d.classNames, ["0", "1", "2"])
        XCTAssertEqual(d.train.x, [1, 2, 3, 4, 5, 6]); XCTAssertEqual(d.train.y, [0, 2, 1]); XCTAssertEqual(d.val.y, [0])
        let named = try write("n.csv", text: "x,\"species, kind\"\n1.5,virginica\n2,setosa\n3,\"ver,\"\"si\"\"\"\n4,setosa\n")
        r = request(["train": ["": named], "test": ["": named]], numVal: 1)
        r.labelColumn = "species, kind"; r.preprocess = Preprocess.none
        d = try load(CSVSource.self, r)
        XCTAssertEqual(d.classNames, ["setosa", "ver,\"si\"", "virginica"], "sorted names of the training file")
        XCTAssertEqual(d.train.y, [2, 0, 1]); XCTAssertEqual(d.test.y, [2, 0, 1, 0]); XCTAssertEqual(d.train.x, [1.5, 2, 3])
    }

    // MARK: CIFAR-100

    func testCIFAR100FineAndCoarse() throws {
        // Records: coarse label, fine label, 3072 pixels.
        func rec(_ coarse: UInt8, _ fine: UInt8, _ v: UInt8) -> [UInt8] { [coarse, fine] + [UInt8](repeating: v, count: 3072) }
        try write("train.bin", rec(3, 97, 1) + rec(19, 5, 2) + rec(0, 42, 3))
        try write("test.bin", rec(7, 99, 9))
        try write("coarse_label_names.txt", text: (0..<20).map { "super\($0)" }.joined(separator: "\n") + "\n")
        var r = DataRequest(directory: dir, numTrain: nil, numVal: 1, numTest: nil)
        let fine = try load(CIFAR100Source.self, r)
        XCTAssertEqual(fine.numClasses, 100); XCTAssertEqual(fine.train.y, [97, 5]); XCTAssertEqual(fine.val.y, [42]); XCTAssertEqual(fine.test.y, [99])
        XCTAssertEqual(fine.classNames[99], "99", "no fine_label_names.txt: numbers")
        XCTAssertEqual(fine.train.x[0], -0.5, "mean image of the 2 training rows (1, 2) subtracted")
        r.label = "coarse"
        let coarse = try load(CIFAR100Source.self, r)
        XCTAssertEqual(coarse.numClasses, 20); XCTAssertEqual(coarse.train.y, [3, 19]); XCTAssertEqual(coarse.test.y, [7])
        XCTAssertEqual(coarse.classNames[19], "super19")
        XCTAssertEqual(fine.sampleShape, [3, 32, 32])
    }

    // MARK: preprocessing, fitted on the training split only

    func testPreprocessingFittedOnTrainingRowsOnly() throws {
        // Training rows: feature 0 = 1, 3 (mean 2, σ 1); the validation row 1000 must not count.
        let p = try write("p.csv", text: "f,g,label\n1,10,0\n3,10,1\n1000,-5,1\n")
        var r = request(["train": ["": p]], numVal: 1, numTest: 0)
        func data(_ pre: Preprocess) throws -> Dataset { r.preprocess = pre; return try load(CSVSource.self, r) }
        XCTAssertEqual(try data(.standardize).train.x, [-1, 0, 1, 0], "constant feature: σ taken as 1")
        XCTAssertEqual(try data(.standardize).val.x, [998, -15])
        XCTAssertEqual(try data(.scale).train.x, [0, 0, 1, 0])
        XCTAssertEqual(try data(.scale).val.x, [499.5, -15])
        XCTAssertEqual(try data(.subtractMean).train.x, [-1, 0, 1, 0])
        XCTAssertEqual(try data(.none).val.x, [1000, -5])
        // Byte images scale by 1/255; standardize is per channel.
        var idx = try idxFiles(gzip: false)
        idx.preprocess = .scale
        XCTAssertEqual(try load(IDXSource.self, idx).train.x[1], Float(1) * (1 / 255))
        idx.preprocess = .standardize
        let s = try load(IDXSource.self, idx).train.x
        let mean = s.reduce(0, +) / Float(s.count)
        XCTAssertEqual(mean, 0, accuracy: 1e-5)
        XCTAssertEqual(s.map { $0 * $0 }.reduce(0, +) / Float(s.count), 1, accuracy: 1e-4)
    }

    // MARK: malformed files

    func testMalformedFilesNameFileAndPosition() throws {
        let goodLabels = try write("lab", Self.idx([2], values: [0, 1]))
        let goodImages = try write("img", Self.idx([2, 2, 2], values: [UInt8](repeating: 0, count: 8)))
        let f32 = { (v: [Float]) in Self.bytes(v) }
        let cases: [(String, () throws -> (any DataSource.Type, DataRequest), (String) -> String)] = [
            ("idx wrong magic", {
                let p = try self.write("m1", [8, 3, 0, 0] + [UInt8](repeating: 0, count: 8))
                return (IDXSource.self, self.request(["train": ["images": p, "labels": goodLabels]], numTest: 0))
            }, { "data file \($0)/m1: byte 0: wrong magic number 08 03 00 00, expected an IDX file starting with 00 00" }),
            ("idx truncated", {
                let p = try self.write("m2", Self.idx([2, 2, 2], values: [1, 2, 3]))
                return (IDXSource.self, self.request(["train": ["images": p, "labels": goodLabels]], numTest: 0))
            }, { "data file \($0)/m2: byte 19: the header says 2×2×2 values (24 bytes with the header) but the file has 19 bytes (truncated?)" }),
            ("idx wrong dtype", {
                let p = try self.write("m3", Self.idx([2], dtype: 0x0B, values: [0, 0, 0, 1]))
                return (IDXSource.self, self.request(["train": ["images": goodImages, "labels": p]], numTest: 0))
            }, { "data file \($0)/m3: byte 2: dtype int16 (0x0b) is not supported for labels; expected unsigned byte (0x08)" }),
            ("idx label count", {
                let p = try self.write("m4", Self.idx([3], values: [0, 1, 1]))
                return (IDXSource.self, self.request(["train": ["images": goodImages, "labels": p]], numTest: 0))
            }, { "data file \($0)/m4: byte 4: 3 labels but \($0)/img holds 2 images" }),
            ("gzip truncated", {
                var gz = Self.gzipStored(Self.idx([2], values: [0, 1])); gz.removeLast(9)
                let p = try self.write("m5.gz", gz)
                return (IDXSource.self, self.request(["train": ["images": goodImages, "labels": p]], numTest: 0))
            }, { "data file \($0)/m5.gz: byte 15: invalid gzip data: a stored block is cut short" }),
            ("npy wrong magic", {
                let p = try self.write("n1.npy", Array("hello, not numpy".utf8))
                return (NPYSource.self, self.request(["train": ["X": p, "y": p]], numTest: 0))
            }, { "data file \($0)/n1.npy: X: byte 0: wrong magic number: not a NumPy .npy array (expected \\x93NUMPY)" }),
            ("npy wrong dtype", {
                let x = try self.write("n2.npy", Self.npy(descr: "<i2", shape: [2, 1], data: [0, 0, 0, 0]))
                let y = try self.write("n2y.npy", Self.npy(descr: "|u1", shape: [2], data: [0, 1]))
                return (NPYSource.self, self.request(["train": ["X": x, "y": y]], numTest: 0))
            }, { "data file \($0)/n2.npy: n2.npy: X has dtype i2; expected uint8, float32 or float64" }),
            ("npy truncated", {
                var b = Self.npy(descr: "<f4", shape: [2, 2], data: f32([1, 2, 3, 4])); b.removeLast(3)
                let x = try self.write("n3.npy", b)
                let y = try self.write("n3y.npy", Self.npy(descr: "|u1", shape: [2], data: [0, 1]))
                return (NPYSource.self, self.request(["train": ["X": x, "y": y]], numTest: 0))
            }, { "data file \($0)/n3.npy: n3.npy: byte 141: shape (2, 2) of f32 needs 16 bytes of data, the array has 13 (truncated?)" }),
            ("npy fortran order", {
                let x = try self.write("n4.npy", Self.npy(descr: "<f4", shape: [1, 1], data: f32([1]), fortran: true))
                return (NPYSource.self, self.request(["train": ["X": x, "y": x]], numTest: 0))
            }, { "data file \($0)/n4.npy: X: byte 10: the array is in Fortran order; save it in C order (numpy.ascontiguousarray)" }),
            ("npy NaN feature", {
                let x = try self.write("n5.npy", Self.npy(descr: "<f4", shape: [2, 1, 3], data: f32([0, 1, 2, 3, 4, .nan])))
                let y = try self.write("n5y.npy", Self.npy(descr: "|u1", shape: [2], data: [0, 1]))
                return (NPYSource.self, self.request(["train": ["X": x, "y": y]], numTest: 0))
            }, { "data file \($0)/n5.npy: n5.npy[1, 0, 2]: value nan is not a finite number" }),
            ("npy negative label", {
                let x = try self.write("n6.npy", Self.npy(descr: "|u1", shape: [2, 1], data: [0, 1]))
                let y = try self.write("n6y.npy", Self.npy(descr: "<i8", shape: [2], data: Self.bytes([Int64(0), -3])))
                return (NPYSource.self, self.request(["train": ["X": x, "y": y]], numTest: 0))
            }, { "data file \($0)/n6y.npy: n6y.npy[1]: label -3 is out of range (class indices 0, 1, …)" }),
            ("npz without y", {
                let x = Self.npy(descr: "|u1", shape: [2, 1], data: [0, 1])
                let p = try self.write("n7.npz", Self.zipStored([("X.npy", x), ("labels.npy", x)]))
                return (NPYSource.self, self.request(["train": ["": p]], numTest: 0))
            }, { "data file \($0)/n7.npz: byte 0: the archive must hold arrays X and y (numpy.savez(path, X=..., y=...)); it has no y" }),
            ("csv ragged", {
                let p = try self.write("c1.csv", text: "a,b,label\n1,2,0\n3,1\n")
                return (CSVSource.self, self.request(["train": ["": p]], numTest: 0))
            }, { "data file \($0)/c1.csv: line 3: 2 fields, but the header has 3 columns" }),
            ("csv non-numeric", {
                let p = try self.write("c2.csv", text: "a,b,label\n1,2,0\n3,x7,1\n")
                return (CSVSource.self, self.request(["train": ["": p]], numTest: 0))
            }, { "data file \($0)/c2.csv: line 3, column 2 (\"b\"): \"x7\" is not a number" }),
            ("csv NaN", {
                let p = try self.write("c3.csv", text: "a,b,label\nnan,2,0\n")
                return (CSVSource.self, self.request(["train": ["": p]], numTest: 0))
            }, { "data file \($0)/c3.csv: line 2, column 1 (\"a\"): value nan is not a finite number" }),
            ("csv no label column", {
                let p = try self.write("c4.csv", text: "a,Label\n1,0\n")
                return (CSVSource.self, self.request(["train": ["": p]], numTest: 0))
            }, { "data file \($0)/c4.csv: line 1 (header): no column \"label\" for the labels (data.label_column) (did you mean \"Label\"?); the columns are a, Label" }),
            ("csv label not in training file", {
                let t = try self.write("c5.csv", text: "a,label\n1,cat\n2,dog\n")
                let s = try self.write("c5t.csv", text: "a,label\n1,cat\n2,cow\n")
                return (CSVSource.self, self.request(["train": ["": t], "test": ["": s]]))
            }, { "data file \($0)/c5t.csv: line 3, column 2: label \"cow\" is not a class of the training file \($0)/c5.csv (cat, dog)" }),
            ("csv label out of range", {
                let p = try self.write("c6.csv", text: "a,label\n1,0\n2,123456\n")
                return (CSVSource.self, self.request(["train": ["": p]], numTest: 0))
            }, { "data file \($0)/c6.csv: line 3, column 2: label 123456 is out of range (class indices below 100000)" }),
            ("cifar100 size", {
                try self.write("train.bin", [UInt8](repeating: 0, count: 3074 + 10))
                return (CIFAR100Source.self, DataRequest(directory: self.dir, numTrain: nil, numVal: 1, numTest: 0))
            }, { "data file \($0)/train.bin: byte 3074: the file has 3084 bytes, not a whole non-zero number of 3074-byte CIFAR-100 records (coarse label, fine label, 3072 pixels); is it the binary version?" }),
            ("cifar100 label out of range", {
                try self.write("train.bin", [0, 1] + [UInt8](repeating: 0, count: 3072) + [0, 100] + [UInt8](repeating: 0, count: 3072))
                return (CIFAR100Source.self, DataRequest(directory: self.dir, numTrain: nil, numVal: 1, numTest: 0))
            }, { "data file \($0)/train.bin: record 1: label 100 is out of range, expected 0…99" }),
            ("missing file", {
                (CSVSource.self, self.request(["train": ["": self.dir + "/nope.csv"]], numTest: 0))
            }, { "data file \($0)/nope.csv is missing" }),
        ]
        for (name, make, expected) in cases {
            let (source, r) = try make()
            do {
                _ = try DataSources.load(source, r)
                XCTFail("\(name): loaded")
            } catch let e as DataError {
                XCTAssertEqual(e.description, expected(dir), name)
            }
        }
    }

    /// Relative paths resolve against the working directory; errors print the full path.
    func testRelativePathsResolveAgainstWorkingDirectory() {
        var r = DataRequest(directory: "data/x/", numTrain: nil, numVal: 1, numTest: 0)
        r.files = ["train": DataFiles(single: "./t/../t.csv")]
        let abs = r.resolvingPaths(in: "/work/here")
        XCTAssertEqual(abs.directory, "/work/here/data/x")
        XCTAssertEqual(abs.files["train"]?.single, "/work/here/t/../t.csv")
        XCTAssertEqual(DataRequest(directory: "/abs", numTrain: nil, numVal: 1, numTest: 0).resolvingPaths(in: "/w").directory, "/abs")
    }
}
