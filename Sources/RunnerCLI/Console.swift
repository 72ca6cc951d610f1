import Foundation

/// Where a command writes: `out` and `err` each take one line (the newline is added by
/// the writer). `isTerminal` decides whether a run draws its live progress block.
public struct Console: Sendable {
    public var out: @Sendable (String) -> Void
    public var err: @Sendable (String) -> Void
    public var isTerminal: Bool

    public init(isTerminal: Bool = false, out: @escaping @Sendable (String) -> Void, err: @escaping @Sendable (String) -> Void) {
        self.out = out; self.err = err; self.isTerminal = isTerminal
    }

    /// The process's standard output and standard error.
    public static var standard: Console {
        Console(isTerminal: isatty(STDOUT_FILENO) != 0,
                out: { FileHandle.standardOutput.write(Data(($0 + "\n").utf8)) },
                err: { FileHandle.standardError.write(Data(($0 + "\n").utf8)) })
    }

    /// A console that collects both streams in memory (for tests); safe to write from
    /// several threads, as a run's progress display does.
    public static func capturing() -> (Console, CapturedOutput) {
        let buffer = CapturedOutput()
        return (Console(isTerminal: false, out: { buffer.append($0 + "\n", toStderr: false) },
                        err: { buffer.append($0 + "\n", toStderr: true) }), buffer)
    }
}

/// What a capturing console received, exactly as the process would have written it.
public final class CapturedOutput: @unchecked Sendable {
    private let lock = NSLock()
    private var o = "", e = ""
    public init() {}
    func append(_ s: String, toStderr: Bool) {
        lock.lock(); defer { lock.unlock() }
        if toStderr { e += s } else { o += s }
    }
    public var stdout: String { lock.lock(); defer { lock.unlock() }; return o }
    public var stderr: String { lock.lock(); defer { lock.unlock() }; return e }
}

/// What a command may read from its surroundings besides its arguments.
public struct Context: Sendable {
    /// Relative paths on the command line (the config, `init`'s NAME, a results folder) are
    /// taken from here; nil: the process's current directory. A results or data folder named
    /// by a *config* is opened relative to the process's directory, so `run`, `merge`, `plot`
    /// and `slurm` refuse a working directory other than the process's (see `requireProcessDirectory`).
    public var workingDirectory: String?
    /// Read for the trial selection (SLURM_ARRAY_TASK_ID, JOB_COMPLETION_INDEX, PARALLEL_SEQ)
    /// and SLURM_CPUS_PER_TASK.
    public var environment: [String: String]
    /// The runner executable written into Slurm scripts.
    public var executablePath: String
    /// Whether `run` installs the Ctrl-C handler (SIGINT/SIGTERM) of `installInterruptHandler`.
    public var installsInterruptHandler: Bool

    public init(workingDirectory: String? = nil, environment: [String: String] = ProcessInfo.processInfo.environment,
                executablePath: String = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().path,
                installsInterruptHandler: Bool = true) {
        self.workingDirectory = workingDirectory
        self.environment = environment
        self.executablePath = executablePath
        self.installsInterruptHandler = installsInterruptHandler
    }

    /// The running process's own surroundings (what the `runner` executable uses).
    public static var process: Context { Context() }

    /// The directory relative paths are taken from.
    var currentDirectory: String { workingDirectory ?? FileManager.default.currentDirectoryPath }

    /// `path` as the filesystem should see it (unchanged without a working directory).
    func resolve(_ path: String) -> String {
        guard let wd = workingDirectory, !path.hasPrefix("/") else { return path }
        return (wd as NSString).appendingPathComponent(path)
    }

    /// `path` made absolute against the working directory.
    func absolute(_ path: String) -> String {
        path.hasPrefix("/") ? path : (currentDirectory as NSString).appendingPathComponent(path)
    }
}
