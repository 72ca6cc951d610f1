import Foundation

/// `data.source: "npy"`: NumPy arrays. `data.train` (and `data.test`, optionally `data.val`)
/// is an `.npz` archive holding arrays `X` and `y` (as `numpy.savez` or `savez_compressed`
/// write it: a zip of `X.npy` and `y.npy`, stored or deflated) or an object
/// `{"X": PATH, "y": PATH}` of two `.npy` files. `X` has shape (N, …) and dtype uint8,
/// float32 or float64 (little-endian, C order); `y` has shape (N) and an integer dtype; the
/// class count is the largest label + 1. X of shape (N, H, W) reaches the model as 1×H×W,
/// (N, C, H, W) as C×H×W, (N, D) as D features. uint8 and float32 arrays in a `.npy` file
/// or a stored `.npz` entry are memory-mapped; float64 is converted to Float32 (as all
/// inputs are), deflated entries are decompressed into memory.
public struct NPYSource: DataSource {
    public static let name = "npy"
    public static let summary = "npy: NumPy arrays X (N, …) and y (N): `train`/`test` as an .npz file or {\"X\": PATH, \"y\": PATH}"
    public static let usesDirectory = false
    public static let fileForm: DataFileForm? = .singleOrParts(["X", "y"])

    /// A parsed array header: where the data starts (in the file, or in `bytes` when the
    /// array was decompressed), dtype and shape.
    struct Array {
        var file: String
        /// "X" or "y", or the .npy path, for messages.
        var name: String
        var kind: Character   // u, i, f
        var itemSize: Int
        var shape: [Int]
        var dataOffset: Int
        var bytes: [UInt8]?
        var count: Int { shape.reduce(1, *) }
        var dtype: String { "\(kind)\(itemSize)" }
    }

    /// Parses an .npy header from `b` (the first bytes of the array).
    static func parse(_ b: [UInt8], file: String, name: String, base: Int) throws -> Array {
        func bad(_ pos: Int, _ m: String) -> DataError { .malformed(file: file, position: "\(name): byte \(base + pos)", message: m) }
        let magic: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59]
        guard b.count >= 10, Swift.Array(b[0..<6]) == magic else { throw bad(0, "wrong magic number: not a NumPy .npy array (expected \\x93NUMPY)") }
        let major = b[6]
        let (lenBytes, start) = major == 1 ? (2, 10) : (4, 12)
        guard [1, 2, 3].contains(major), b.count >= start else { throw bad(6, "unknown .npy format version \(major)") }
        let hlen = (0..<lenBytes).reduce(0) { $0 | Int(b[8 + $1]) << (8 * $1) }
        guard b.count >= start + hlen else { throw bad(b.count, "the file ends inside the header (truncated?)") }
        let text = String(decoding: b[start..<(start + hlen)], as: UTF8.self)
        func value(_ key: String) -> Substring? {
            guard let r = text.range(of: "'\(key)':") else { return nil }
            return text[r.upperBound...].drop { $0 == " " }
        }
        guard let d = value("descr"), d.first == "'", let endQ = d.dropFirst().firstIndex(of: "'") else { throw bad(start, "the header has no 'descr'") }
        let descr = String(d[d.index(after: d.startIndex)..<endQ])
        guard let f = value("fortran_order") else { throw bad(start, "the header has no 'fortran_order'") }
        if f.hasPrefix("True") { throw bad(start, "the array is in Fortran order; save it in C order (numpy.ascontiguousarray)") }
        guard let s = value("shape"), s.first == "(", let close = s.firstIndex(of: ")") else { throw bad(start, "the header has no 'shape'") }
        let dims = s[s.index(after: s.startIndex)..<close].split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        let shape = dims.compactMap { Int($0) }
        guard shape.count == dims.count else { throw bad(start, "the shape \(s[...close]) is not a tuple of integers") }
        let chars = Swift.Array(descr)
        guard chars.count >= 3, "<|=".contains(chars[0]) || (chars[0] == ">" && chars.dropFirst(2).elementsEqual("1")),
              "uif".contains(chars[1]), let size = Int(String(chars[2...])) else {
            throw bad(start, "dtype '\(descr)' is not supported (expected uint8, float32 or float64 for X and an integer dtype for y, little-endian)")
        }
        return Array(file: file, name: name, kind: chars[1], itemSize: size, shape: shape, dataOffset: base + start + hlen)
    }

    /// An .npy file's header (its data is read or mapped later).
    static func npy(_ path: String, name: String) throws -> Array {
        let size = try DataFile.size(path)
        var head = [UInt8](repeating: 0, count: min(size, 65_536 + 12))
        if !head.isEmpty { try head.withUnsafeMutableBytes { try DataFile.read(path, count: $0.count, into: $0.baseAddress!, what: "the header") } }
        var a = try parse(head, file: path, name: name, base: 0)
        a.name = (path as NSString).lastPathComponent
        try checkLength(a, available: size - a.dataOffset)
        return a
    }

    static func checkLength(_ a: Array, available: Int) throws {
        let need = a.count * a.itemSize
        guard available == need else {
            throw DataError.malformed(file: a.file, position: "\(a.name): byte \(a.dataOffset + min(available, need))",
                                      message: "shape (\(a.shape.map(String.init).joined(separator: ", "))) of \(a.dtype == "u1" ? "uint8" : "\(a.kind)\(a.itemSize * 8)") needs \(need) bytes of data, the array has \(available)\(available < need ? " (truncated?)" : "")")
        }
    }

    /// Arrays X and y of an .npz archive: the zip's central directory is read, each entry
    /// stored (mapped in place) or deflated (decompressed).
    static func npz(_ path: String) throws -> (x: Array, y: Array) {
        let b = try DataFile.contents(path)   // archives are read whole; mapping needs a stored X.npy file
        func bad(_ pos: Int, _ m: String) -> DataError { .malformed(file: path, position: "byte \(pos)", message: m) }
        func u16(_ p: Int) -> Int { Int(b[p]) | Int(b[p + 1]) << 8 }
        func u32(_ p: Int) -> Int { u16(p) | u16(p + 2) << 16 }
        guard b.count >= 22, let eocd = stride(from: b.count - 22, through: max(0, b.count - 22 - 65_535), by: -1).first(where: { u32($0) == 0x0605_4b50 }) else {
            throw bad(0, b.count >= 4 && u32(0) == 0x0403_4b50 ? "the zip archive's directory at the end is missing (truncated?)" : "not a zip archive (.npz); expected numpy.savez output")
        }
        let entries = u16(eocd + 10)
        var p = u32(eocd + 16)
        var found: [String: Array] = [:]
        for _ in 0..<entries {
            guard p + 46 <= b.count, u32(p) == 0x0201_4b50 else { throw bad(p, "a zip directory entry is damaged") }
            let method = u16(p + 10), crc = UInt32(u32(p + 16)), csize = u32(p + 20), usize = u32(p + 24)
            let nameLen = u16(p + 28), extraLen = u16(p + 30), commentLen = u16(p + 32), local = u32(p + 42)
            guard p + 46 + nameLen <= b.count else { throw bad(p, "a zip directory entry is cut short") }
            let entry = String(decoding: b[(p + 46)..<(p + 46 + nameLen)], as: UTF8.self)
            p += 46 + nameLen + extraLen + commentLen
            let key = entry.hasSuffix(".npy") ? String(entry.dropLast(4)) : entry
            guard key == "X" || key == "y" else { continue }
            guard csize != 0xffff_ffff, usize != 0xffff_ffff else { throw bad(local, "\(entry) is a zip64 entry (over 4 GB); save X and y as .npy files instead") }
            guard local + 30 <= b.count, u32(local) == 0x0403_4b50 else { throw bad(local, "the local header of \(entry) is damaged") }
            let dataStart = local + 30 + u16(local + 26) + u16(local + 28)
            guard dataStart + csize <= b.count else { throw bad(b.count, "\(entry) is cut short (truncated archive?)") }
            switch method {
            case 0:
                var a = try parse(Swift.Array(b[dataStart..<min(dataStart + csize, dataStart + 65_536 + 12)]), file: path, name: entry, base: dataStart)
                try checkLength(a, available: dataStart + csize - a.dataOffset)
                a.bytes = nil
                found[key] = a
            case 8:
                var out: [UInt8] = []
                do { try Inflate.inflate(b, from: dataStart, into: &out, expectedSize: usize) }
                catch { throw bad(error.offset, "\(entry): invalid deflate data: \(error.message)") }
                guard out.count == usize, Inflate.crc32(out) == crc else {
                    throw bad(dataStart, "\(entry) decompresses to data that fails the zip's size or CRC-32 check (corrupt archive)")
                }
                var a = try parse(out, file: path, name: entry, base: 0)
                try checkLength(a, available: out.count - a.dataOffset)
                a.bytes = out
                found[key] = a
            default:
                throw bad(local, "\(entry) uses zip compression method \(method); only stored (0) and deflated (8) are supported")
            }
        }
        guard let x = found["X"], let y = found["y"] else {
            throw bad(0, "the archive must hold arrays X and y (numpy.savez(path, X=..., y=...)); it has no \(found["X"] == nil ? "X" : "y")")
        }
        return (x, y)
    }

    /// X and y of one split, their headers checked against each other.
    static func arrays(_ f: DataFiles) throws -> (x: Array, y: Array) {
        let (x, y) = try f.single.map(npz) ?? (try npy(f["X"]!, name: "X"), try npy(f["y"]!, name: "y"))
        guard ["u1", "f4", "f8"].contains(x.dtype), x.shape.count >= 2 else {
            throw DataError.malformed(file: x.file, position: x.name, message: x.shape.count < 2 ? "X must have shape (N, …) with at least 2 dimensions, got (\(x.shape.map(String.init).joined(separator: ", ")))"
                                                                                                    : "X has dtype \(x.dtype); expected uint8, float32 or float64")
        }
        guard "ui".contains(y.kind), [1, 2, 4, 8].contains(y.itemSize) else { throw DataError.malformed(file: y.file, position: y.name, message: "y has dtype \(y.dtype); expected integer class labels") }
        guard y.shape == [x.shape[0]] else {
            throw DataError.malformed(file: y.file, position: y.name, message: "y has shape (\(y.shape.map(String.init).joined(separator: ", "))) but X holds \(x.shape[0]) rows; expected (\(x.shape[0]))")
        }
        return (x, y)
    }

    static func labels(_ y: Array) throws -> [Int32] {
        let raw = try y.bytes.map { Swift.Array($0[y.dataOffset...]) } ?? {
            var out = [UInt8](repeating: 0, count: y.count * y.itemSize)
            if !out.isEmpty { try out.withUnsafeMutableBytes { try DataFile.read(y.file, offset: y.dataOffset, count: $0.count, into: $0.baseAddress!, what: "y") } }
            return out
        }()
        return try raw.withUnsafeBytes { b in
            try (0..<y.count).map { i -> Int32 in
                let v: Int64
                switch (y.kind, y.itemSize) {
                case ("u", 1): v = Int64(b[i])
                case ("i", 1): v = Int64(Int8(bitPattern: b[i]))
                case ("u", 2): v = Int64(b.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self))
                case ("i", 2): v = Int64(b.loadUnaligned(fromByteOffset: 2 * i, as: Int16.self))
                case ("u", 4): v = Int64(b.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self))
                case ("i", 4): v = Int64(b.loadUnaligned(fromByteOffset: 4 * i, as: Int32.self))
                case ("u", 8): v = Int64(clamping: b.loadUnaligned(fromByteOffset: 8 * i, as: UInt64.self))
                default: v = b.loadUnaligned(fromByteOffset: 8 * i, as: Int64.self)
                }
                guard v >= 0, v < 1_000_000 else { throw DataError.malformed(file: y.file, position: "\(y.name)[\(i)]", message: "label \(v) is out of range (class indices 0, 1, …)") }
                return Int32(v)
            }
        }
    }

    static func sampleShape(_ x: Array) -> [Int] { inputShape(ofArray: x.shape) }

    struct Part { let x: Array; let labels: [Int32] }
    static func parts(_ r: DataRequest) throws -> (train: Part, test: Part?, val: Part?) {
        func part(_ f: DataFiles) throws -> Part { let (x, y) = try arrays(f); return Part(x: x, labels: try labels(y)) }
        let train = try part(try files(r, "train"))
        let test = r.numTest == 0 ? nil : try r.files["test"].map(part)
        let val = try r.files["val"].map(part)
        for p in [test, val].compactMap({ $0 }) where sampleShape(p.x) != sampleShape(train.x) {
            throw DataError.malformed(file: p.x.file, position: p.x.name, message: "rows of shape \(shapeText(sampleShape(p.x))), but the training rows (\(train.x.file)) are \(shapeText(sampleShape(train.x)))")
        }
        return (train, test, val)
    }

    public static func inspect(_ r: DataRequest) throws -> DataShape {
        let (train, test, val) = try parts(r)
        let all = [train, test, val].compactMap { $0 }
        let classes = try classCount(all.map { p in (p.labels, p.x.file, { "y[\($0)]" }) })
        return DataShape(sampleShape: sampleShape(train.x), numClasses: classes, trainRows: train.labels.count, testRows: test?.labels.count ?? 0,
                         valRows: val?.labels.count, bytesPerElement: train.x.itemSize == 1 ? 1 : 4, origin: "npy \(train.x.file)")
    }

    static func rows(_ p: Part, classes: Int) throws -> LabeledRows {
        let x = p.x
        try checkLabels(p.labels, classes: classes, file: x.file) { "y[\($0)]" }
        let n = x.shape[0], d = x.shape.dropFirst().reduce(1, *)
        let store: SampleStore
        if x.bytes == nil, x.itemSize != 8 {
            store = try SampleStore(mapping: x.file, offset: x.dataOffset, element: x.itemSize == 1 ? .uint8 : .float32, rows: n, rowSize: d)
        } else {
            let bytes = try x.bytes ?? DataFile.contents(x.file)
            store = SampleStore(allocating: x.itemSize == 1 ? .uint8 : .float32, rows: n, rowSize: d)
            bytes.withUnsafeBytes { b in
                for r in 0..<n {
                    let src = b.baseAddress! + x.dataOffset + r * d * x.itemSize, dst = store.mutableRow(r)
                    switch x.itemSize {
                    case 8: for j in 0..<d { dst.storeBytes(of: Float(src.loadUnaligned(fromByteOffset: 8 * j, as: Double.self)), toByteOffset: 4 * j, as: Float.self) }
                    default: dst.copyMemory(from: src, byteCount: d * x.itemSize)
                    }
                }
            }
        }
        let dims = x.shape.dropFirst()
        try checkFinite(store, file: x.file) { r, j in
            var rest = j, idx: [Int] = []
            for s in dims.reversed() { idx.insert(rest % s, at: 0); rest /= s }
            return "\(x.name)[\(([r] + idx).map(String.init).joined(separator: ", "))]"
        }
        return LabeledRows(store: store, labels: p.labels)
    }

    public static func read(_ r: DataRequest) throws -> RawData {
        let shape = try DataSources.inspect(self, r)
        let (train, test, val) = try parts(r)
        let t = try test.map { try rows($0, classes: shape.numClasses) }
        if let t, let want = r.numTest, want > t.count { throw DataError.tooFewRows(file: test!.x.file, needed: want, available: t.count, what: "test") }
        return RawData(train: try rows(train, classes: shape.numClasses), val: try val.map { try rows($0, classes: shape.numClasses) },
                       test: t, shape: shape)
    }
}
