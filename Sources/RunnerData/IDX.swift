import Foundation

/// `data.source: "idx"`: the IDX format of MNIST, Fashion-MNIST and KMNIST, raw or
/// gzip-compressed (recognised by its magic number, whatever the file name).
/// `data.train: {"images": PATH, "labels": PATH}`, `data.test` likewise (and optionally
/// `data.val`). An IDX file is 2 zero bytes, a dtype byte (0x08 unsigned byte, 0x0D float32
/// accepted for images; 0x08 for labels), the number of dimensions, then each dimension as a
/// big-endian UInt32, then the values in C order. Images (N, H, W) reach the model as
/// 1×H×W; (N, C, H, W) as C×H×W; (N, D) as D features. Labels are (N) class indices; the
/// class count is the largest label + 1. Raw byte images are memory-mapped (read from disk
/// per batch); gzip files are decompressed into memory.
public struct IDXSource: DataSource {
    public static let name = "idx"
    public static let summary = "idx: MNIST-style IDX files, raw or .gz: `train`/`test` as {\"images\": PATH, \"labels\": PATH}"
    public static let usesDirectory = false
    public static let fileForm: DataFileForm? = .parts(["images", "labels"])

    struct Header {
        var dtype: UInt8
        var dims: [Int]
        var offset: Int { 4 + 4 * dims.count }
        var elementBytes: Int { dtype == 0x08 ? 1 : 4 }
    }
    static let dtypeNames: [UInt8: String] = [0x08: "unsigned byte", 0x09: "signed byte", 0x0B: "int16", 0x0C: "int32", 0x0D: "float32", 0x0E: "float64"]

    /// Parses and checks the header of `bytes` (the first bytes of `path`, decompressed).
    static func header(_ b: [UInt8], path: String, allowed: [UInt8], what: String) throws -> Header {
        guard b.count >= 4 else { throw DataError.malformed(file: path, position: "byte 0", message: "the file has \(b.count) bytes, too short for an IDX header") }
        guard b[0] == 0, b[1] == 0 else {
            throw DataError.malformed(file: path, position: "byte 0", message: "wrong magic number \(Inflate.hex(b[0])) \(Inflate.hex(b[1])) \(Inflate.hex(b[2])) \(Inflate.hex(b[3])), expected an IDX file starting with 00 00")
        }
        guard allowed.contains(b[2]) else {
            let known = dtypeNames[b[2]].map { "\($0) (0x\(Inflate.hex(b[2])))" } ?? "0x\(Inflate.hex(b[2])) (not an IDX type)"
            throw DataError.malformed(file: path, position: "byte 2", message: "dtype \(known) is not supported for \(what); expected " + allowed.map { "\(dtypeNames[$0]!) (0x\(Inflate.hex($0)))" }.joined(separator: " or "))
        }
        let n = Int(b[3])
        guard n >= 1 else { throw DataError.malformed(file: path, position: "byte 3", message: "0 dimensions") }
        guard b.count >= 4 + 4 * n else { throw DataError.malformed(file: path, position: "byte \(b.count)", message: "the file ends inside the header (\(n) dimensions need \(4 + 4 * n) bytes)") }
        let dims = (0..<n).map { i in (0..<4).reduce(0) { $0 << 8 | Int(b[4 + 4 * i + $1]) } }
        return Header(dtype: b[2], dims: dims)
    }

    /// The file's header and whether it is gzip; for gzip also the decompressed bytes.
    static func open(_ path: String, allowed: [UInt8], what: String) throws -> (Header, [UInt8]?) {
        var magic = [UInt8](repeating: 0, count: 2)
        let size = try DataFile.size(path)
        if size >= 2 { try magic.withUnsafeMutableBytes { try DataFile.read(path, count: 2, into: $0.baseAddress!, what: "the header") } }
        if size >= 2, magic == [0x1f, 0x8b] {
            let bytes = try DataFile.contentsMaybeGzip(path).bytes
            return (try header(bytes, path: path, allowed: allowed, what: what), bytes)
        }
        var head = [UInt8](repeating: 0, count: min(size, 4 + 4 * 255))
        if !head.isEmpty { try head.withUnsafeMutableBytes { try DataFile.read(path, count: $0.count, into: $0.baseAddress!, what: "the header") } }
        return (try header(head, path: path, allowed: allowed, what: what), nil)
    }

    /// Checks that the data length matches the header's dimensions.
    static func checkLength(_ h: Header, available: Int, path: String, gzip: Bool) throws {
        let expected = h.offset + h.dims.reduce(1, *) * h.elementBytes
        guard available == expected else {
            let shape = shapeText(h.dims)
            throw DataError.malformed(file: path, position: "byte \(min(available, expected))",
                                      message: "the header says \(shape) values (\(expected) bytes with the header) but the \(gzip ? "decompressed " : "")file has \(available) bytes\(available < expected ? " (truncated?)" : "")")
        }
    }

    static func labels(_ path: String) throws -> [Int32] {
        let (h, unzipped) = try open(path, allowed: [0x08], what: "labels")
        guard h.dims.count == 1 else { throw DataError.malformed(file: path, position: "byte 3", message: "labels must have 1 dimension (N), the header has \(h.dims.count)") }
        let bytes = try unzipped ?? DataFile.contents(path)
        try checkLength(h, available: bytes.count, path: path, gzip: unzipped != nil)
        return bytes[h.offset...].map { Int32($0) }
    }

    static func sampleShape(_ dims: [Int]) -> [Int] { inputShape(ofArray: dims) }

    static func images(_ path: String) throws -> (Header, [UInt8]?) {
        let (h, unzipped) = try open(path, allowed: [0x08, 0x0D], what: "images")
        guard (2...4).contains(h.dims.count) else { throw DataError.malformed(file: path, position: "byte 3", message: "images must have 2 to 4 dimensions ((N, D), (N, H, W) or (N, C, H, W)), the header has \(h.dims.count)") }
        try checkLength(h, available: try unzipped.map(\.count) ?? DataFile.size(path), path: path, gzip: unzipped != nil)
        return (h, unzipped)
    }

    /// One split's files: the images' header (and their bytes when gzip-decompressed) and the labels.
    struct Part { let images: String; let labels: [Int32]; let header: Header; let labelFile: String; let unzipped: [UInt8]? }

    static func part(_ f: DataFiles) throws -> Part {
        let imagesPath = f["images"]!, labelsPath = f["labels"]!
        let (h, unzipped) = try images(imagesPath)
        let l = try labels(labelsPath)
        guard l.count == h.dims[0] else {
            throw DataError.malformed(file: labelsPath, position: "byte 4", message: "\(l.count) labels but \(imagesPath) holds \(h.dims[0]) images")
        }
        return Part(images: imagesPath, labels: l, header: h, labelFile: labelsPath, unzipped: unzipped)
    }

    static func parts(_ r: DataRequest) throws -> (train: Part, test: Part?, val: Part?) {
        let train = try part(try files(r, "train"))
        let test = r.numTest == 0 ? nil : try r.files["test"].map(part)
        let val = try r.files["val"].map(part)
        for p in [test, val].compactMap({ $0 }) where sampleShape(p.header.dims) != sampleShape(train.header.dims) {
            throw DataError.malformed(file: p.images, position: "byte 4", message: "images of shape \(shapeText(sampleShape(p.header.dims))), but the training images \(train.images) are \(shapeText(sampleShape(train.header.dims)))")
        }
        return (train, test, val)
    }

    public static func inspect(_ r: DataRequest) throws -> DataShape {
        let (train, test, val) = try parts(r)
        let all = [train, test, val].compactMap { $0 }
        let classes = try classCount(all.map { p in (p.labels, p.labelFile, { "label \($0) (byte \(8 + $0))" }) })
        return DataShape(sampleShape: sampleShape(train.header.dims), numClasses: classes, trainRows: train.labels.count,
                         testRows: test?.labels.count ?? 0, valRows: val?.labels.count, bytesPerElement: train.header.elementBytes,
                         origin: "idx \(train.images)")
    }

    /// Rows of one part: byte images memory-mapped (raw files) or copied (gzip); float32
    /// images converted from big-endian and checked for NaN.
    static func rows(_ p: Part, classes: Int) throws -> LabeledRows {
        try checkLabels(p.labels, classes: classes, file: p.labelFile) { "label \($0) (byte \(8 + $0))" }
        let (h, unzipped) = (p.header, p.unzipped)
        let n = h.dims[0], d = h.dims.dropFirst().reduce(1, *)
        if h.dtype == 0x08, unzipped == nil {
            return LabeledRows(store: try SampleStore(mapping: p.images, offset: h.offset, element: .uint8, rows: n, rowSize: d), labels: p.labels)
        }
        let bytes = try unzipped ?? DataFile.contents(p.images)
        let store = SampleStore(allocating: h.dtype == 0x08 ? .uint8 : .float32, rows: n, rowSize: d)
        bytes.withUnsafeBytes { b in
            for r in 0..<n {
                let src = b.baseAddress! + h.offset + r * d * h.elementBytes, dst = store.mutableRow(r)
                if h.dtype == 0x08 { dst.copyMemory(from: src, byteCount: d); continue }
                for j in 0..<d {
                    let bits = UInt32(bigEndian: src.loadUnaligned(fromByteOffset: 4 * j, as: UInt32.self))
                    dst.storeBytes(of: Float(bitPattern: bits), toByteOffset: 4 * j, as: Float.self)
                }
            }
        }
        try checkFinite(store, file: p.images) { "image \($0), value \($1) (byte \(h.offset + 4 * ($0 * d + $1)))" }
        return LabeledRows(store: store, labels: p.labels)
    }

    public static func read(_ r: DataRequest) throws -> RawData {
        let shape = try DataSources.inspect(self, r)
        let (train, test, val) = try parts(r)
        var testRows = try test.map { try rows($0, classes: shape.numClasses) }
        if let t = testRows, let want = r.numTest, want > t.count {
            throw DataError.tooFewRows(file: test!.images, needed: want, available: t.count, what: "test")
        }
        if testRows == nil, let want = r.numTest, want > 0 {
            throw DataError.malformed(file: "data.test", position: "config", message: "num_test is \(want) but data.test is not given")
        }
        if r.numTest == 0 { testRows = nil }
        return RawData(train: try rows(train, classes: shape.numClasses), val: try val.map { try rows($0, classes: shape.numClasses) },
                       test: testRows, shape: shape)
    }
}
