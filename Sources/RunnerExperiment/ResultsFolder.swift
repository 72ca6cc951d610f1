import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// The one place where the runner touches the file system of a results folder.
//
// Rules (the trust boundary, see README "Safety"):
//  - every file is written inside the experiment's results folder, checked after resolving
//    symbolic links; a link that leads out of it is refused, never followed;
//  - every write is atomic: a temporary file created exclusively in the same folder (it
//    cannot be a link), then renamed over the target, so a reader sees the old or the new
//    file, never half of one; a failed write removes its temporary;
//  - the runner deletes only files it writes itself, in trial folders it created, and
//    never follows a link while deleting;
//  - file-system errors name the path and the cause in plain words.

/// A file-system failure, with the path and a plain cause ("no space left on device").
public struct FileError: Error, CustomStringConvertible, Equatable, Sendable {
    public let path: String
    public let action: String
    public let reason: String
    public init(_ action: String, _ path: String, _ reason: String) { self.action = action; self.path = path; self.reason = reason }
    public init(_ action: String, _ path: String, errno code: Int32) { self.init(action, path, plainReason(code)) }
    public var description: String { "could not \(action) \(path): \(reason)" }
}

/// `strerror`, in the words a person expects for the common cases.
func plainReason(_ code: Int32) -> String {
    switch code {
    case ENOSPC: return "no space left on device"
    case EDQUOT: return "disk quota exceeded"
    case EACCES, EPERM: return "permission denied"
    case EROFS: return "read-only file system"
    case ENOTDIR: return "a part of the path is a file, not a folder"
    case EISDIR: return "it is a folder"
    case ELOOP: return "too many levels of symbolic links (a link loop?)"
    case ENAMETOOLONG: return "the path is too long"
    case ENOENT: return "no such file or folder"
    case EEXIST: return "it already exists"
    case EIO: return "input/output error"
    default: return String(cString: strerror(code))
    }
}

/// What `lstat` says a path is, without following a final symbolic link.
enum PathKind: Equatable { case missing, file, directory, symlink, other }

func pathKind(_ path: String) -> PathKind {
    var st = stat()
    guard lstat(path, &st) == 0 else { return .missing }
    switch st.st_mode & S_IFMT {
    case S_IFREG: return .file
    case S_IFDIR: return .directory
    case S_IFLNK: return .symlink
    default: return .other
    }
}

/// `realpath(3)`: the absolute path with every link resolved, or the errno.
func resolvedPath(_ path: String) -> Result<String, FileError> {
    guard let p = realpath(path, nil) else { return .failure(FileError("open", path, errno: errno)) }
    defer { free(p) }
    return .success(String(cString: p))
}

/// A name for this machine that is safe inside a file name.
let hostTag: String = {
    var buf = [CChar](repeating: 0, count: 256)
    gethostname(&buf, buf.count - 1)
    let raw = String(decoding: buf.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    let safe = String(raw.unicodeScalars.map { CharacterSet.alphanumerics.contains($0) && $0.isASCII ? Character($0) : "_" }.prefix(40))
    return safe.isEmpty ? "host" : safe
}()

/// Prefix of the runner's temporary files: `.runner-tmp.<host>.<pid>.<random>.<leaf>`.
let temporaryPrefix = ".runner-tmp."

/// Writes `data` to `path` atomically: a temporary file created exclusively (O_EXCL, so never
/// through a link) in the same folder, written in full, then renamed over `path` (rename
/// replaces a link itself, it does not follow it). The temporary is removed on failure.
/// The folder must exist.
public func writeFileAtomically(_ data: Data, to path: String) throws(FileError) {
    let dir = (path as NSString).deletingLastPathComponent
    let leaf = (path as NSString).lastPathComponent
    let tmp = (dir.isEmpty ? "" : dir + "/") + "\(temporaryPrefix)\(hostTag).\(getpid()).\(UInt32.random(in: 0...UInt32.max)).\(leaf.prefix(60))"
    let fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o644)
    guard fd >= 0 else { throw FileError("write", path, errno: errno) }
    var failure: Int32 = 0
    data.withUnsafeBytes { (raw: UnsafeRawBufferPointer) in
        var off = 0
        while off < raw.count {
            let n = write(fd, raw.baseAddress! + off, raw.count - off)
            if n < 0 { if errno == EINTR { continue }; failure = errno; return }
            off += n
        }
    }
    if close(fd) != 0, failure == 0 { failure = errno }
    if failure == 0, rename(tmp, path) != 0 { failure = errno }
    if failure != 0 {
        unlink(tmp)
        throw FileError("write", path, errno: failure)
    }
}

/// Writes `text` to `path` atomically, creating the folders above it (for files outside a
/// results folder, such as the config `runner init` writes).
public func writeAtomically(_ text: String, to path: String) throws(FileError) {
    let dir = (path as NSString).deletingLastPathComponent
    if !dir.isEmpty, pathKind(dir) != .directory { try makeDirectories(dir, action: "create the folder") }
    try writeFileAtomically(Data(text.utf8), to: path)
}

/// `mkdir -p`: creates `path` and the folders above it, with the real cause on failure
/// (a part of the path that is a file is named).
func makeDirectories(_ path: String, action: String) throws(FileError) {
    var missing: [String] = []
    var p = path
    while !p.isEmpty, p != "/", pathKind(p) == .missing {
        missing.append(p)
        p = (p as NSString).deletingLastPathComponent
    }
    if !p.isEmpty, p != "/", pathKind(p) == .file { throw FileError(action, path, "\(p) is a file, not a folder") }
    for d in missing.reversed() where mkdir(d, 0o755) != 0 && errno != EEXIST {
        throw FileError(action, path, errno: errno)
    }
}

/// An experiment's results folder, `<output.dir>/<name>/`, resolved once. Every path the
/// runner writes or deletes goes through it and is checked to lie inside it.
public struct ResultsFolder: Sendable {
    /// The path as the user sees it (for messages).
    public let path: String
    /// The same folder with every link resolved.
    public let root: String

    /// Opens (creating when `create`) the folder `path`. Fails when it is a file, a broken
    /// link or a link loop, or cannot be created.
    public init(_ path: String, create: Bool) throws(FileError) {
        self.path = path
        switch pathKind(path) {
        case .missing:
            guard create else { throw FileError("open", path, "no such folder") }
            try makeDirectories(path, action: "create the results folder")
        case .file, .other:
            throw FileError("use the results folder", path, "it exists and is not a folder")
        case .directory, .symlink:
            break
        }
        switch resolvedPath(path) {
        case .success(let r): root = r
        case .failure(let e): throw FileError("use the results folder", path, e.reason)
        }
        guard pathKind(root) == .directory else { throw FileError("use the results folder", path, "it is not a folder") }
    }

    /// `root/relative`, after checking that every folder on the way exists (created when
    /// `create`), is a real folder or a link that stays inside the results folder.
    /// Returns the path to use for the final component (which may not exist yet).
    func checked(_ relative: String, create: Bool, missingIsError: Bool = true) throws(FileError) -> String {
        let parts = relative.split(separator: "/").map(String.init)
        guard !parts.isEmpty, !parts.contains(".."), !parts.contains("."), !relative.utf8.contains(0) else {
            throw FileError("use", display(relative), "not a path inside the results folder")
        }
        var dir = root
        for part in parts.dropLast() {
            let next = dir + "/" + part
            switch pathKind(next) {
            case .directory: break
            case .missing:
                guard create else {
                    if missingIsError { throw FileError("open", shown(next), "no such folder") }
                    return root + "/" + relative
                }
                if mkdir(next, 0o755) != 0, errno != EEXIST { throw FileError("create the folder", shown(next), errno: errno) }
                guard pathKind(next) == .directory else { throw FileError("create the folder", shown(next), "something else appeared there") }
            case .symlink:
                guard case .success(let target) = resolvedPath(next), contains(target), pathKind(target) == .directory else {
                    throw FileError("write in", shown(next), "it is a symbolic link that leads outside the results folder \(path) (or nowhere); remove it")
                }
            case .file, .other:
                throw FileError("write in", shown(next), "it is a file, not a folder")
            }
            dir = next
        }
        let leaf = dir + "/" + parts.last!
        if create, pathKind(leaf) == .directory { throw FileError("write", shown(leaf), "it is a folder") }
        return leaf
    }

    func contains(_ resolved: String) -> Bool { resolved == root || resolved.hasPrefix(root + "/") }

    /// A path inside the folder, as the user would write it (for messages).
    public func shown(_ full: String) -> String { full.hasPrefix(root) ? path + full.dropFirst(root.count) : full }

    /// The user-facing path of `relative`.
    public func display(_ relative: String) -> String { (path as NSString).appendingPathComponent(relative) }

    /// Writes `text` to `relative` atomically (see `writeFileAtomically`).
    public func write(_ text: String, to relative: String) throws(FileError) {
        try write(Data(text.utf8), to: relative)
    }

    /// Writes `data` to `relative` atomically (see `writeFileAtomically`).
    public func write(_ data: Data, to relative: String) throws(FileError) {
        let target = try checked(relative, create: true)
        do { try writeFileAtomically(data, to: target) }
        catch { throw FileError(error.action, shown(target), error.reason) }
    }

    /// Reads `relative` as UTF-8, nil when it is missing, unreadable, or a link out of the folder.
    public func read(_ relative: String) -> String? {
        guard let p = try? checked(relative, create: false) else { return nil }
        if pathKind(p) == .symlink {
            guard case .success(let t) = resolvedPath(p), contains(t) else { return nil }
        }
        return try? String(contentsOfFile: p, encoding: .utf8)
    }

    /// Names in the folder `relative`, when it is a real folder inside (links are not followed).
    func list(_ relative: String) -> [String] {
        guard let p = try? checked(relative + "/x", create: false, missingIsError: false) else { return [] }
        let dir = (p as NSString).deletingLastPathComponent
        guard pathKind(dir) == .directory else { return [] }
        return (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []
    }

    public func exists(_ relative: String) -> Bool {
        guard let p = try? checked(relative, create: false) else { return false }
        return pathKind(p) != .missing
    }

    /// Modification time of `relative`, if it exists.
    func modified(_ relative: String) -> Date? {
        guard let p = try? checked(relative, create: false) else { return nil }
        var st = stat()
        guard lstat(p, &st) == 0 else { return nil }
        return Date(timeIntervalSince1970: Double(st.st_mtim.tv_sec) + Double(st.st_mtim.tv_nsec) / 1e9)
    }

    /// Removes the runner's files `names` from the folder `relative` (a trial folder), never
    /// following a link, and the folder itself when nothing else is left in it. Files the
    /// runner did not write are kept; their names are returned.
    @discardableResult
    public func removeRunnerFiles(_ names: [String], in relative: String) throws(FileError) -> [String] {
        // The folders above it must be inside too (`checked` refuses links that lead out).
        let dir = (try checked(relative + "/x", create: false, missingIsError: false) as NSString).deletingLastPathComponent
        switch pathKind(dir) {
        case .missing: return []
        case .directory: break
        case .symlink: throw FileError("clear", shown(dir), "it is a symbolic link, not a folder the runner created; remove it by hand")
        case .file, .other: throw FileError("clear", shown(dir), "it is not a folder the runner created; remove it by hand")
        }
        for n in names {
            let p = dir + "/" + n
            guard pathKind(p) != .missing else { continue }
            if pathKind(p) == .directory { continue }
            if unlink(p) != 0, errno != ENOENT { throw FileError("remove", shown(p), errno: errno) }
        }
        var left = ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).sorted()
        // A claim file nobody holds is the runner's too; one held belongs to a live run.
        if left == [TrialClaim.fileName], pathKind(dir + "/" + TrialClaim.fileName) == .file,
           let lock = try? FileLock.acquire(self, relative + "/" + TrialClaim.fileName, wait: false) {
            unlink(dir + "/" + TrialClaim.fileName)
            lock.release()
            left = []
        }
        if left.isEmpty { rmdir(dir) }
        return left.filter { $0 != TrialClaim.fileName }
    }

    /// Removes temporaries that interrupted writes left in `relative` (a folder of the
    /// results): the runner's own (`.runner-tmp.*`) whose process is gone, and those of
    /// Foundation's atomic writes from earlier versions (`.dat.nosync*`).
    public func removeStaleTemporaries(in relative: String? = nil) {
        var dir = root
        if let relative {
            guard let p = try? checked(relative + "/x", create: false, missingIsError: false) else { return }
            dir = (p as NSString).deletingLastPathComponent
        }
        guard pathKind(dir) == .directory, let names = try? FileManager.default.contentsOfDirectory(atPath: dir) else { return }
        for n in names {
            let p = dir + "/" + n
            guard pathKind(p) == .file else { continue }
            if n.hasPrefix(".dat.nosync") { unlink(p); continue }
            guard n.hasPrefix(temporaryPrefix) else { continue }
            let fields = n.dropFirst(temporaryPrefix.count).split(separator: ".", maxSplits: 3)
            guard fields.count >= 2, let pid = Int32(fields[1]) else { continue }
            let age = Date().timeIntervalSince(modified(relative.map { $0 + "/" + n } ?? n) ?? Date())
            let ownerGone = String(fields[0]) == hostTag ? (kill(pid, 0) != 0 && errno == ESRCH) : age > 3600
            if ownerGone { unlink(p) }
        }
    }
}

/// An exclusive advisory lock (`flock`) on a file of the results folder. The kernel drops it
/// when the owner exits in any way (kill -9 included), so a lock is never stale; on a shared
/// file system (NFS) `flock` is a network lock on Linux. Released by `release()` or deinit.
public final class FileLock: @unchecked Sendable {
    private var fd: Int32

    private init(fd: Int32) { self.fd = fd }

    /// Locks `relative` (created when missing). With `wait`, blocks until it is free;
    /// without, returns nil when another process holds it.
    static func acquire(_ folder: ResultsFolder, _ relative: String, wait: Bool) throws(FileError) -> FileLock? {
        let path = try folder.checked(relative, create: true)
        let fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw FileError("lock", folder.shown(path), errno: errno) }
        while flock(fd, LOCK_EX | (wait ? 0 : LOCK_NB)) != 0 {
            let code = errno
            if code == EINTR { continue }
            close(fd)
            if !wait, code == EWOULDBLOCK || code == EAGAIN { return nil }
            throw FileError("lock", folder.shown(path), errno: code)
        }
        return FileLock(fd: fd)
    }

    /// Replaces the lock file's content (a note for people: who holds it).
    func note(_ text: String) {
        _ = ftruncate(fd, 0)
        _ = text.withCString { pwrite(fd, $0, strlen($0), 0) }
    }

    public func release() {
        guard fd >= 0 else { return }
        close(fd)
        fd = -1
    }

    deinit { release() }
}

/// Exclusive claim of one trial by one process: a `FileLock` on `trials/<id>/.claim`, which
/// records its owner (host, process id, time) for people.
public enum TrialClaim {
    public static let fileName = ".claim"

    /// Takes the claim of trial folder `relative` without waiting; nil when another
    /// process holds it. Throws when the claim file cannot be created.
    public static func take(_ folder: ResultsFolder, trial relative: String) throws(FileError) -> FileLock? {
        guard let lock = try FileLock.acquire(folder, relative + "/" + fileName, wait: false) else { return nil }
        lock.note("host \(hostTag)\npid \(getpid())\nsince \(ISO8601DateFormatter().string(from: Date()))\n")
        return lock
    }
}

/// The experiment-wide lock on `.lock` in the results folder, held while the sweep tables
/// are rebuilt so that processes sharing the folder take turns. Waits for it.
public func experimentLock(_ folder: ResultsFolder) throws(FileError) -> FileLock {
    guard let lock = try FileLock.acquire(folder, ".lock", wait: true) else { throw FileError("lock", folder.display(".lock"), "not acquired") }
    return lock
}
