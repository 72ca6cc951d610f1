import Foundation

/// File access shared by the readers: every failure is a `DataError` naming the path.
enum DataFile {
    static func errnoText(_ code: Int32) -> String { String(cString: strerror(code)) }

    /// Size in bytes of the regular file at `path` (missing, a folder, a broken link, not a
    /// regular file or unreadable: a `DataError`).
    static func size(_ path: String) throws -> Int {
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
        return Int(st.st_size)
    }

    /// Reads `count` bytes from `offset` of `path` into `into` (at most the file's end:
    /// a short file is a `malformed` error saying how many bytes were there).
    static func read(_ path: String, offset: Int = 0, count: Int, into dst: UnsafeMutableRawPointer, what: String) throws {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { throw DataError.unreadable(path, errnoText(errno)) }
        defer { close(fd) }
        var got = 0
        while got < count {
            let r = pread(fd, dst + got, count - got, off_t(offset + got))
            if r < 0 {
                if errno == EINTR { continue }
                throw DataError.unreadable(path, errnoText(errno))
            }
            if r == 0 {
                throw DataError.malformed(file: path, position: "byte \(offset + got)", message: "the file ends there, but \(what) needs \(count) bytes from byte \(offset) (truncated?)")
            }
            got += r
        }
    }

    /// The whole file.
    static func contents(_ path: String) throws -> [UInt8] {
        let n = try size(path)
        var out = [UInt8](repeating: 0, count: n)
        if n > 0 { try out.withUnsafeMutableBytes { try read(path, count: n, into: $0.baseAddress!, what: "the file") } }
        return out
    }

    /// The file's bytes, gunzipped when it starts with the gzip magic number (1f 8b).
    static func contentsMaybeGzip(_ path: String) throws -> (bytes: [UInt8], gzip: Bool) {
        let raw = try contents(path)
        guard raw.count >= 2, raw[0] == 0x1f, raw[1] == 0x8b else { return (raw, false) }
        do { return (try Inflate.gunzip(raw), true) }
        catch let e as InflateError { throw DataError.malformed(file: path, position: "byte \(e.offset)", message: "invalid gzip data: \(e.message)") }
    }
}

/// Labels checked to be in 0..<classes; `position(i)` names label i's place in the file.
func checkLabels(_ labels: [Int32], classes: Int, file: String, position: (Int) -> String) throws {
    if let i = labels.firstIndex(where: { $0 < 0 || Int($0) >= classes }) {
        throw DataError.malformed(file: file, position: position(i), message: "label \(labels[i]) is out of range, expected 0…\(classes - 1)")
    }
}

/// Class count of integer labels: max + 1 over train (and test, val); negative labels are errors.
func classCount(_ labelSets: [(labels: [Int32], file: String, position: (Int) -> String)]) throws -> Int {
    var top: Int32 = -1
    for s in labelSets {
        if let i = s.labels.firstIndex(where: { $0 < 0 }) {
            throw DataError.malformed(file: s.file, position: s.position(i), message: "label \(s.labels[i]) is negative; labels are class indices 0, 1, …")
        }
        top = max(top, s.labels.max() ?? -1)
    }
    return Int(top) + 1
}

/// A Float store checked for NaN and infinities: the first one is an error at its row and column.
func checkFinite(_ store: SampleStore, file: String, position: (Int, Int) -> String) throws {
    guard store.element == .float32 else { return }
    for r in 0..<store.rowCount {
        let p = store.row(r).assumingMemoryBound(to: Float.self)
        for j in 0..<store.rowSize where !p[j].isFinite {
            throw DataError.malformed(file: file, position: position(r, j), message: "value \(p[j]) is not a finite number")
        }
    }
}

/// The per-sample shape the model sees for an array of shape (N, …): (N, H, W) images get
/// one channel (1×H×W); (N, C, H, W) and (N, D) keep their trailing dimensions.
func inputShape(ofArray dims: [Int]) -> [Int] { dims.count == 3 ? [1, dims[1], dims[2]] : Array(dims.dropFirst()) }

/// "1×8×8"
func shapeText(_ dims: [Int]) -> String { dims.map(String.init).joined(separator: "×") }
