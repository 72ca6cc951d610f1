import Foundation

// The safetensors file format (https://github.com/huggingface/safetensors), written and read
// without the library:
//
//     8 bytes   N, the header length, unsigned little-endian
//     N bytes   a JSON object, UTF-8, padded with spaces to a multiple of 8 bytes:
//               {"__metadata__": {"k": "v", …},                      (optional, strings only)
//                "W1": {"dtype": "F32", "shape": [3072, 100], "data_offsets": [0, 1228800]}, …}
//     the rest  the tensors' bytes, little-endian, row-major; `data_offsets` [begin, end) are
//               relative to the first byte after the header
//
// The reader checks every field before it touches the data (as the reference implementation
// does): the header length against the file, JSON syntax (no key twice), each entry's keys and types, the
// dtype, that `end − begin` is the shape's element count × the dtype's size, and that the
// tensors tile the data exactly (sorted by offset: no overlap, no gap, nothing after the
// last one, nothing missing). Any failure is a `SafeTensorsError` naming the file, never a trap.

/// The element types runner writes and reads.
public enum SafeTensorDType: String, Sendable, CaseIterable {
    case F32, F64
    /// Bytes per element.
    public var size: Int { self == .F32 ? 4 : 8 }
    /// The safetensors dtype of a trial's `dtype` ("float32", "float64").
    public init(configName: String) { self = configName == "float64" ? .F64 : .F32 }
}

/// One named tensor: dtype, shape and its raw little-endian bytes.
public struct SafeTensor: Equatable, Sendable {
    public var name: String
    public var dtype: SafeTensorDType
    public var shape: [Int]
    public var bytes: Data
    public var count: Int { shape.reduce(1, *) }

    public init(name: String, dtype: SafeTensorDType, shape: [Int], bytes: Data) {
        self.name = name; self.dtype = dtype; self.shape = shape; self.bytes = bytes
    }

    /// A tensor of `values`, stored as `T` (Float: F32, Double: F64).
    public init<T: Real>(name: String, shape: [Int], values: [T]) {
        precondition(values.count == shape.reduce(1, *), "tensor \(name): \(values.count) values for shape \(shape)")
        self.name = name
        self.shape = shape
        if T.self == Double.self {
            dtype = .F64
            bytes = values.map { Double($0).bitPattern.littleEndian }.withUnsafeBytes { Data($0) }
        } else {
            dtype = .F32
            bytes = values.map { Float($0).bitPattern.littleEndian }.withUnsafeBytes { Data($0) }
        }
    }

    /// The values converted to `T` (exact when `T` is the stored type or wider).
    public func values<T: Real>(as _: T.Type) -> [T] {
        var out = [T](repeating: 0, count: count)
        bytes.withUnsafeBytes { (raw: UnsafeRawBufferPointer) in
            for i in 0..<out.count {
                switch dtype {
                case .F32: out[i] = T(Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self))))
                case .F64: out[i] = T(Double(bitPattern: UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: 8 * i, as: UInt64.self))))
                }
            }
        }
        return out
    }
}

/// A malformed safetensors file: what is wrong, and where. The description names the file.
public struct SafeTensorsError: Error, Equatable, CustomStringConvertible, Sendable {
    public let file: String
    public let problem: String
    public init(file: String, _ problem: String) { self.file = file; self.problem = problem }
    public var description: String { "\(file) is not a valid safetensors file: \(problem)" }
}

public enum SafeTensors {
    /// Largest header the reader accepts (the reference implementation's limit).
    public static let maxHeaderBytes = 100_000_000

    /// The file's bytes: header (metadata first, then the tensors in the given order, their
    /// data back to back in that order) padded with spaces to 8-byte alignment, then the data.
    public static func encode(_ tensors: [SafeTensor], metadata: [(key: String, value: String)] = []) -> Data {
        var entries: [(key: String, value: JSON)] = []
        if !metadata.isEmpty { entries.append(("__metadata__", .object(metadata.map { ($0.key, .string($0.value)) }))) }
        var offset = 0
        for t in tensors {
            entries.append((t.name, .object([
                ("dtype", .string(t.dtype.rawValue)),
                ("shape", .array(t.shape.map { .number(Double($0)) })),
                ("data_offsets", .array([.number(Double(offset)), .number(Double(offset + t.bytes.count))])),
            ])))
            offset += t.bytes.count
        }
        var header = Array(JSON.object(entries).compact.utf8)
        while header.count % 8 != 0 { header.append(0x20) }
        var out = Data(capacity: 8 + header.count + offset)
        withUnsafeBytes(of: UInt64(header.count).littleEndian) { out.append(contentsOf: $0) }
        out.append(contentsOf: header)
        for t in tensors { out.append(t.bytes) }
        return out
    }

    /// Reads and checks the file at `path`; errors name `shownAs` (default `path`).
    public static func read(_ path: String, shownAs: String? = nil) throws(SafeTensorsError) -> (tensors: [SafeTensor], metadata: [String: String]) {
        let name = shownAs ?? path
        guard let data = FileManager.default.contents(atPath: path) else {
            throw SafeTensorsError(file: name, FileManager.default.fileExists(atPath: path) ? "it cannot be read" : "no such file")
        }
        return try decode(data, file: name)
    }

    /// Parses and checks a whole file's bytes (see the file comment for every check).
    public static func decode(_ data: Data, file: String) throws(SafeTensorsError) -> (tensors: [SafeTensor], metadata: [String: String]) {
        func fail(_ s: String) -> SafeTensorsError { SafeTensorsError(file: file, s) }
        let bytes = [UInt8](data)
        guard bytes.count >= 8 else { throw fail("it has \(bytes.count) bytes, fewer than the 8-byte header length") }
        let n = bytes[0..<8].enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) }
        guard n <= UInt64(maxHeaderBytes) else { throw fail("the header length \(n) is larger than the \(maxHeaderBytes)-byte limit") }
        let headerEnd = 8 + Int(n)
        guard headerEnd <= bytes.count else {
            throw fail("the header length is \(n) bytes but only \(bytes.count - 8) bytes follow it (truncated?)")
        }
        guard n >= 2, bytes[8] == UInt8(ascii: "{") else { throw fail("the header does not start with '{'") }
        guard let text = String(validating: bytes[8..<headerEnd], as: UTF8.self) else { throw fail("the header is not UTF-8 text") }
        let header: JSON
        do { header = try JSON.parse(text) } catch { throw fail("the header is not JSON (\(error.message) at column \(error.column))") }
        guard case .object(let pairs) = header else { throw fail("the header is not a JSON object") }

        var metadata: [String: String] = [:]
        var entries: [(name: String, dtype: SafeTensorDType, shape: [Int], begin: Int, end: Int)] = []
        for (key, value) in pairs {   // (JSON.parse refuses a key that appears twice)
            if key == "__metadata__" {
                guard case .object(let m) = value else { throw fail("__metadata__ is \(value.typeName), not an object of strings") }
                for (k, v) in m {
                    guard case .string(let s) = v else { throw fail("__metadata__ \(displayString(k)) is \(v.typeName), not a string") }
                    metadata[k] = s
                }
                continue
            }
            let what = "tensor \(displayString(key))"
            guard case .object(let fields) = value else { throw fail("\(what) is \(value.typeName), not an object") }
            for (k, _) in fields where !["dtype", "shape", "data_offsets"].contains(k) {
                throw fail("\(what) has an unknown field \(displayString(k)) (expected dtype, shape, data_offsets)")
            }
            guard case .string(let d)? = value["dtype"] else { throw fail("\(what) has no dtype string") }
            guard let dtype = SafeTensorDType(rawValue: d) else {
                throw fail("\(what) has dtype \(displayString(d)); runner reads \(SafeTensorDType.allCases.map(\.rawValue).joined(separator: " and "))")
            }
            func integers(_ field: String) throws(SafeTensorsError) -> [Int] {
                guard case .array(let xs)? = value[field] else { throw fail("\(what) has no \(field) list") }
                var out: [Int] = []
                for x in xs {
                    guard case .number(let v) = x, v >= 0, v == v.rounded(), v <= 9.0e15 else {
                        throw fail("\(what): \(field) holds \(x.compact), not a non-negative integer")
                    }
                    out.append(Int(v))
                }
                return out
            }
            let shape = try integers("shape")
            let offsets = try integers("data_offsets")
            guard offsets.count == 2 else { throw fail("\(what): data_offsets has \(offsets.count) numbers, not [begin, end]") }
            guard offsets[0] <= offsets[1] else { throw fail("\(what): data_offsets [\(offsets[0]), \(offsets[1])] ends before it begins") }
            var elements = 1
            for d in shape {
                let (p, o) = elements.multipliedReportingOverflow(by: d)
                guard !o, p <= maxTensorElements else { throw fail("\(what): shape \(shape) is too large") }
                elements = p
            }
            guard offsets[1] - offsets[0] == elements * dtype.size else {
                throw fail("\(what): data_offsets [\(offsets[0]), \(offsets[1])] span \(offsets[1] - offsets[0]) bytes but shape \(shape) of \(d) needs \(elements * dtype.size)")
            }
            entries.append((key, dtype, shape, offsets[0], offsets[1]))
        }
        // The tensors must tile the data: sorted by offset, each starts where the last ended.
        let dataBytes = bytes.count - headerEnd
        var position = 0
        var previous = ""
        for e in entries.sorted(by: { ($0.begin, $0.end) < ($1.begin, $1.end) }) {
            if e.begin < position { throw fail("tensor \(displayString(e.name)) overlaps tensor \(displayString(previous)) (bytes \(e.begin)..<\(position))") }
            if e.begin > position { throw fail("bytes \(position)..<\(e.begin) of the data belong to no tensor") }
            position = e.end
            previous = e.name
        }
        if position > dataBytes {
            throw fail("the tensors need \(position) bytes of data but only \(dataBytes) follow the header (truncated?)")
        }
        if position < dataBytes { throw fail("\(dataBytes - position) bytes after the last tensor belong to no tensor") }
        let tensors = entries.map { e in
            SafeTensor(name: e.name, dtype: e.dtype, shape: e.shape, bytes: Data(bytes[(headerEnd + e.begin)..<(headerEnd + e.end)]))
        }
        return (tensors, metadata)
    }
}
