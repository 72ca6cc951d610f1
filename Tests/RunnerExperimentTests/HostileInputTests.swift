import XCTest
import Foundation
import Runner

/// The trust boundary, tried as an attacker would: hostile names, paths, data folders,
/// results folders, sizes and command-line arguments. For every case the built `runner`
/// runs in a sandbox and the test asserts
///  - it exits with the expected code, never by a signal (no trap, no crash);
///  - no file outside the experiment's results folder was created, changed or deleted
///    (a snapshot of the whole sandbox before and after, canary files included);
///  - no command was executed: every generated script (plots.gp with gnuplot, the Slurm
///    scripts with bash) is run and no marker file appears;
///  - where an error is due, stderr names it.
final class HostileInputTests: XCTestCase {
    /// A marker that any injected command would create (`touch PWNED…`).
    static let marker = "PWNED"

    struct Case {
        var label: String
        /// Config text (written to `work/<configFile>`); nil for cases that need no config.
        var config: String?
        var configFile = "c.json"
        var args: [String]
        var code: Int32
        /// A fragment stderr must contain (empty: no check).
        var stderr = ""
        /// The results folder the run may write to, relative to `work/` (nil: none).
        var results: String? = nil
        /// Prepares the sandbox (`root`) before the run.
        var setup: ((String) throws -> Void)? = nil
        /// Checks inside the results folder after the run (given `root`).
        var check: ((String) -> Void)? = nil
    }

    static let synthetic = #""data": {"source": "synthetic", "num_train": 60, "num_val": 20, "num_test": 10}"#
    static let small = #""model": {"hidden_dims": [8]}, "training": {"num_epochs": 1, "batch_size": 20}"#

    /// A small valid config with the given extra top-level fields.
    static func config(_ extra: String = "", name: String? = "ok") -> String {
        "{" + (name.map { #""name": \#(JSON.string($0).compact), "# } ?? "") + synthetic + ", " + small + (extra.isEmpty ? "" : ", " + extra) + "}"
    }

    /// A config with a name given as raw JSON text (escapes included).
    static func named(_ rawJSONName: String, _ extra: String = "") -> String {
        #"{"name": "# + rawJSONName + ", " + synthetic + ", " + small + (extra.isEmpty ? "" : ", " + extra) + "}"
    }

    static let sweep = #""sweep": {"grid": {"model.reg": [0, 0.1]}}"#

    static var cases: [Case] {
        let m = marker
        var c: [Case] = []
        // 1. Names: newline, quotes, $(), backticks, .., absolute, NUL, 300 characters, …
        let badNames: [(String, String)] = [
            ("newline gnuplot escape", #""x\n!touch \#(m)1\n#""#),
            ("newline shell escape", #""s\ntouch \#(m)2;""#),
            ("parent of parent", #""../../victim""#),
            ("dot dot", #""..""#),
            ("empty", #""""#),
            ("NUL", #""a\u0000b""#),
            ("NUL after traversal", #""../../victim\u0000""#),
            ("absolute", #""/tmp/runner-hostile-abs""#),
            ("300 characters", "\"" + String(repeating: "a", count: 300) + "\""),
            ("command substitution", #""$(touch \#(m)3)""#),
            ("backticks", #""`touch \#(m)4`""#),
            ("apostrophe", #""bob's sweep""#),
            ("quote injection", #""q'; touch \#(m)5; echo '""#),
            ("hidden", #"".hidden""#),
            ("slash", #""a/b""#),
            ("dash first", #""-rf""#),
            ("escape sequence", #""x\u001b[2Jy""#),
            ("tab", #""a\tb""#),
            ("space", #""my sweep""#),
            ("unicode", #""α-sweep""#),
        ]
        for (label, raw) in badNames {
            c.append(Case(label: "name: " + label, config: named(raw), args: ["c.json"], code: 2, stderr: "name: "))
        }
        c.append(Case(label: "name via slurm", config: named(#""s\ntouch \#(m)6;""#), args: ["slurm", "c.json"], code: 2, stderr: "name: "))
        c.append(Case(label: "name with --fresh", config: named(#""../../victim\u0000""#), args: ["c.json", "--fresh"], code: 2, stderr: "name: "))
        c.append(Case(label: "file name is not a slug", config: config(name: nil), configFile: "bob's $(x).json", args: ["bob's $(x).json"], code: 2,
                      stderr: "is not set and the config file name"))
        // 2. Output folders.
        c.append(Case(label: "output.dir with newline", config: config(#""output": {"dir": "res\nults"}"#), args: ["c.json"], code: 2, stderr: "output.dir: "))
        c.append(Case(label: "output.dir with NUL", config: config(#""output": {"dir": "../outside\u0000"}"#), args: ["c.json"], code: 2, stderr: "output.dir: "))
        c.append(Case(label: "output.dir empty", config: config(#""output": {"dir": ""}"#), args: ["c.json"], code: 2, stderr: "output.dir: "))
        c.append(Case(label: "output.dir is a file", config: config(#""output": {"dir": "afile"}"#), args: ["c.json"], code: 1, stderr: "is a file, not a folder",
                      setup: { try "x".write(toFile: $0 + "/work/afile", atomically: false, encoding: .utf8) }))
        c.append(Case(label: "results folder is a file", config: config(), args: ["c.json"], code: 1, stderr: "exists and is not a folder",
                      setup: { root in
                          try FileManager.default.createDirectory(atPath: root + "/work/results", withIntermediateDirectories: true)
                          try "x".write(toFile: root + "/work/results/ok", atomically: false, encoding: .utf8)
                      }))
        c.append(Case(label: "results folder is a link loop", config: config(), args: ["c.json"], code: 1, stderr: "symbolic links",
                      setup: { root in
                          try FileManager.default.createDirectory(atPath: root + "/work/results", withIntermediateDirectories: true)
                          try FileManager.default.createSymbolicLink(atPath: root + "/work/results/ok", withDestinationPath: "ok")
                      }))
        c.append(Case(label: "trials is a link outside", config: config(), args: ["c.json"], code: 1, stderr: "leads outside the results folder", results: "results/ok",
                      setup: { root in
                          try FileManager.default.createDirectory(atPath: root + "/work/results/ok", withIntermediateDirectories: true)
                          try FileManager.default.createSymbolicLink(atPath: root + "/work/results/ok/trials", withDestinationPath: root + "/outside/victim")
                      }))
        c.append(Case(label: "a trial folder is a link outside", config: config(), args: ["c.json"], code: 1, stderr: "leads outside the results folder", results: "results/ok",
                      setup: { root in
                          let id = try Sweep.plan(JSON.parse(config()), defaultName: "c").trials[0].id
                          try FileManager.default.createDirectory(atPath: root + "/work/results/ok/trials", withIntermediateDirectories: true)
                          try FileManager.default.createSymbolicLink(atPath: root + "/work/results/ok/trials/" + id, withDestinationPath: root + "/outside/victim")
                      }))
        c.append(Case(label: "a trial folder is a link outside, --fresh", config: config(), args: ["c.json", "--fresh"], code: 1, stderr: "symbolic link", results: "results/ok",
                      setup: { root in
                          let id = try Sweep.plan(JSON.parse(config()), defaultName: "c").trials[0].id
                          try FileManager.default.createDirectory(atPath: root + "/work/results/ok/trials", withIntermediateDirectories: true)
                          try FileManager.default.createSymbolicLink(atPath: root + "/work/results/ok/trials/" + id, withDestinationPath: root + "/outside/victim")
                      }))
        c.append(Case(label: "outputs are links outside", config: config(), args: ["c.json"], code: 0, results: "results/ok",
                      setup: { root in
                          try FileManager.default.createDirectory(atPath: root + "/work/results/ok", withIntermediateDirectories: true)
                          for f in ["summary.csv", "plots.gp", "training.svg", "experiment.json"] {
                              try FileManager.default.createSymbolicLink(atPath: root + "/work/results/ok/" + f, withDestinationPath: root + "/outside/victim/file.txt")
                          }
                      }))
        c.append(Case(label: "stale folder with a user's file, --fresh", config: config(), args: ["c.json", "--fresh"], code: 0, results: "results/ok",
                      setup: { root in
                          let d = root + "/work/results/ok/trials/0123456789"
                          try FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true)
                          try "mine".write(toFile: d + "/notes.txt", atomically: false, encoding: .utf8)
                          try "x".write(toFile: d + "/summary.csv", atomically: false, encoding: .utf8)
                      }, check: { root in
                          let d = root + "/work/results/ok/trials/0123456789"
                          XCTAssertEqual(try? String(contentsOfFile: d + "/notes.txt", encoding: .utf8), "mine", "a user's file in a trial folder was deleted")
                          XCTAssertFalse(FileManager.default.fileExists(atPath: d + "/summary.csv"), "--fresh keeps a stale trial's results")
                      }))
        // 3. Data folders.
        let cifar = { (dir: String) in #"{"name": "d", "data": {"dir": "\#(dir)", "num_train": 100, "num_val": 50, "num_test": 0}, "# + small + "}" }
        c.append(Case(label: "data folder missing", config: cifar("nowhere"), args: ["c.json"], code: 1, stderr: "nowhere"))
        c.append(Case(label: "data folder is a file", config: cifar("afile"), args: ["c.json"], code: 1, stderr: "afile",
                      setup: { try "x".write(toFile: $0 + "/work/afile", atomically: false, encoding: .utf8) }))
        c.append(Case(label: "data file truncated", config: cifar("trunc"), args: ["c.json"], code: 1, stderr: "data_batch_1.bin",
                      setup: { try makeData($0 + "/work/trunc", files: ["data_batch_1.bin": 3073 * 200 + 17]) }))
        c.append(Case(label: "data file empty", config: cifar("empty"), args: ["c.json"], code: 1, stderr: "data_batch_1.bin",
                      setup: { try makeData($0 + "/work/empty", files: ["data_batch_1.bin": 0]) }))
        c.append(Case(label: "data file missing in the middle", config: cifar("gap"), args: ["c.json"], code: 1, stderr: "data_batch_3.bin",
                      setup: { try makeData($0 + "/work/gap", files: ["data_batch_1.bin": 30_730_000, "data_batch_2.bin": 30_730_000,
                                                                      "data_batch_4.bin": 30_730_000, "data_batch_5.bin": 30_730_000]) }))
        c.append(Case(label: "data file is a folder", config: cifar("dirfile"), args: ["c.json"], code: 1, stderr: "data_batch_1.bin",
                      setup: { try FileManager.default.createDirectory(atPath: $0 + "/work/dirfile/data_batch_1.bin", withIntermediateDirectories: true) }))
        c.append(Case(label: "data.dir with newline", config: cifar(#"da\nta"#), args: ["c.json"], code: 2, stderr: "data.dir: "))
        c.append(Case(label: "--data with newline", config: config(), args: ["c.json", "--data", "x\ny"], code: 2, stderr: "data.dir: "))
        // 4. Config conflicts.
        c.append(Case(label: "arm sets a grid path", config: config(#""sweep": {"grid": {"model.reg": [0, 1]}, "arms": {"a": {"model.reg": 5}}}"#), args: ["c.json"], code: 2,
                      stderr: "\"model.reg\" is also swept in sweep.grid"))
        c.append(Case(label: "zip and grid on one path", config: config(#""sweep": {"grid": {"model.reg": [0, 1]}, "zip": {"model.reg": [2, 3]}}"#), args: ["c.json"], code: 2,
                      stderr: "\"model.reg\" is also swept in sweep.grid"))
        c.append(Case(label: "two zip groups on one path", config: config(#""sweep": {"zip": [{"model.reg": [0, 1]}, {"model.reg": [2, 3]}]}"#), args: ["c.json"], code: 2,
                      stderr: "is also swept in sweep.zip[0]"))
        c.append(Case(label: "sweep_point beside a sweep", config: config(#""sweep_point": {"model.reg": 1}, "# + sweep), args: ["c.json"], code: 2, stderr: "sweep_point: "))
        // 5. Strings that reach CSV cells and scripts.
        c.append(Case(label: "arm name with newline", config: config(#""sweep": {"arms": {"a\ntouch \#(m)7": {"model.reg": 1}}}"#), args: ["c.json"], code: 2, stderr: "arm name"))
        c.append(Case(label: "swept string with newline", config: config(#""sweep": {"grid": {"model.init": ["kaiming", "xavier\n"]}}"#), args: ["c.json"], code: 2, stderr: "model.init"))
        c.append(Case(label: "description with newline and quotes (valid)", config: config(#""description": "line 1\nline 2 'q' \"dq\" `touch \#(m)8` $(touch \#(m)9)", "# + sweep),
                      args: ["c.json"], code: 0, results: "results/ok"))
        c.append(Case(label: "surrogate pair (valid)", config: config(#""description": "\ud83d\ude42""#), args: ["c.json"], code: 0, results: "results/ok"))
        c.append(Case(label: "lone surrogate", config: config(#""description": "\ud83d""#), args: ["c.json"], code: 2))
        // 6. Sizes.
        c.append(Case(label: "synthetic rows 1e9", config: #"{"name": "big", "data": {"source": "synthetic", "num_train": 1000000000}}"#, args: ["c.json"], code: 2))
        c.append(Case(label: "model of ~100 GB", config: #"{"name": "big", "# + synthetic + #", "model": {"hidden_dims": [\#(Array(repeating: "30000", count: 10).joined(separator: ","))]}}"#, args: ["validate", "c.json"], code: 2, stderr: "GB"))
        c.append(Case(label: "20 layers of 30000", config: #"{"name": "big", "# + synthetic + #", "model": {"hidden_dims": [\#(Array(repeating: "30000", count: 20).joined(separator: ","))]}}"#,
                      args: ["plan", "c.json"], code: 2, stderr: "GB"))
        c.append(Case(label: "batch of 1e9", config: #"{"name": "big", "# + synthetic + #", "training": {"batch_size": 1000000000}}"#, args: ["c.json"], code: 2))
        c.append(Case(label: "integer beyond 2^63", config: #"{"name": "big", "seed": 1e30}"#, args: ["c.json"], code: 2))
        c.append(Case(label: "huge conv", config: #"{"name": "big", "# + synthetic + #", "model": {"type": "layers", "layers": [{"type": "conv", "filters": 1000000, "size": 3}, {"type": "flatten"}, {"type": "affine", "units": 10}]}}"#,
                      args: ["c.json"], code: 2))
        c.append(Case(label: "sweep of 10^10 trials", config: config(#""sweep": {"grid": {"model.reg": {"linspace": [0, 1, 100000]}, "model.weight_scale": {"logspace": [-3, 0, 100000]}}}"#),
                      args: ["plan", "c.json"], code: 2, stderr: "trials"))
        // 7. Command-line arguments.
        for (label, args, err) in [
            ("--jobs 0", ["c.json", "--jobs", "0"], "--jobs"),
            ("--jobs huge", ["c.json", "--jobs", "99999999999999999999999"], "--jobs"),
            ("--shard 1/0", ["c.json", "--shard", "1/0"], "--shard"),
            ("--shard -1/2", ["c.json", "--shard", "-1/2"], "--shard"),
            ("--trial -1", ["c.json", "--trial", "-1"], "--trial"),
            ("--trial beyond", ["c.json", "--trial", "5"], "does not exist"),
            ("unknown option", ["c.json", "--frseh"], "unknown option"),
            ("two configs", ["c.json", "c.json"], "unexpected argument"),
            ("init with a quote", ["init", "say\"hi"], "NAME"),
            ("init with a slash", ["init", "a/b"], "NAME"),
            ("init traversal", ["init", "../../victim"], "NAME"),
            ("slurm partition injection", ["slurm", "c.json", "--partition", "x\n#SBATCH --wrap=touch"], "--partition"),
            ("slurm time with a space", ["slurm", "c.json", "--time", "1 2"], "--time"),
            ("merge of a non-results folder", ["merge", "../outside/victim"], "not a results folder"),
        ] as [(String, [String], String)] {
            c.append(Case(label: "argument: " + label, config: config(), args: args, code: 2, stderr: err))
        }
        c.append(Case(label: "merge of a hostile experiment.json", config: nil, args: ["merge", "results/evil"], code: 2, stderr: "name: ",
                      setup: { root in
                          try FileManager.default.createDirectory(atPath: root + "/work/results/evil", withIntermediateDirectories: true)
                          try #"{"name": "../../victim", "config": {"name": "../../victim"}, "trials": []}"#
                              .write(toFile: root + "/work/results/evil/experiment.json", atomically: false, encoding: .utf8)
                      }))
        // Swept strings reach the figures' labels and plots.gp: quotes, backquotes, $() and
        // gnuplot's @ macros in a swept path value (data.dir, ignored by synthetic data).
        c.append(Case(label: "hostile swept strings in the figures", config: config(#""sweep": {"grid": {"data.dir": ["q'`touch \#(m)10`@x", "$(touch \#(m)11) \\\"", "a'b"]}}"#),
                      args: ["c.json"], code: 0, results: "results/ok"))
        c.append(Case(label: "plot redraws hostile labels", config: config(#""sweep": {"grid": {"data.dir": ["q'`touch \#(m)19`", "@m"]}}"#),
                      args: ["plot", "results/ok"], code: 0, results: "results/ok",
                      setup: { root in
                          // a finished run first (in-process), then `runner plot` redraws from its records
                          let text = config(#""sweep": {"grid": {"data.dir": ["q'`touch \#(m)19`", "@m"]}}"#)
                          let cwd = FileManager.default.currentDirectoryPath
                          _ = FileManager.default.changeCurrentDirectoryPath(root + "/work")
                          defer { _ = FileManager.default.changeCurrentDirectoryPath(cwd) }
                          let plan = try Sweep.plan(JSON.parse(text), defaultName: "c")
                          _ = try runExperiment(plan, options: RunOptions(jobs: 1), cache: DataCache()) { _ in }
                      }))
        // 8. A valid sweep from a working directory with awkward characters: scripts quote it.
        c.append(Case(label: "valid run, slurm scripts written", config: config(sweep), args: ["slurm", "c.json"], code: 0, results: "results/ok"))
        c.append(Case(label: "slurm scripts embed a hostile config path and --data", config: config(sweep), configFile: "we'ird $(touch \(m)12) `touch \(m)13`.json",
                      args: ["slurm", "we'ird $(touch \(m)12) `touch \(m)13`.json", "--data", "d'; touch \(m)14; '"], code: 0, results: "results/ok"))
        c.append(Case(label: "slurm scripts embed a command substitution in paths", config: config(sweep), configFile: "sl $(touch \(m)16) `touch \(m)17`.json",
                      args: ["slurm", "sl $(touch \(m)16) `touch \(m)17`.json", "--data", "$(touch \(m)18)"], code: 0, results: "results/ok"))
        c.append(Case(label: "plan prints quoted commands", config: config(sweep), configFile: "p'q.json", args: ["plan", "p'q.json", "--data", "$(touch \(m)15)"], code: 0))
        return c
    }

    /// A fake CIFAR-10 folder: files of the given sizes, zero-filled (sparse) so big ones cost nothing.
    static func makeData(_ dir: String, files: [String: Int]) throws {
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        for (name, size) in files {
            let fd = open(dir + "/" + name, O_CREAT | O_WRONLY | O_TRUNC, 0o644)
            guard fd >= 0, ftruncate(fd, off_t(size)) == 0 else { throw NSError(domain: "makeData", code: 1) }
            close(fd)
        }
    }

    // MARK: - the sandbox

    struct Entry: Equatable { var kind: String; var size: Int; var mtime: Int; var link: String? }

    /// Every path under `root` (links not followed), except under the allowed results folder.
    static func snapshot(_ root: String, except allowed: String?) -> [String: Entry] {
        var out: [String: Entry] = [:]
        func walk(_ rel: String) {
            let full = rel.isEmpty ? root : root + "/" + rel
            if let allowed, rel == allowed || rel.hasPrefix(allowed + "/") { return }
            // The folders above the results folder (output.dir) may be created, nothing else.
            if let allowed, allowed.hasPrefix(rel + "/"), rel.hasPrefix("work/") {
                for n in (try? FileManager.default.contentsOfDirectory(atPath: full)) ?? [] { walk(rel + "/" + n) }
                return
            }
            var st = stat()
            guard lstat(full, &st) == 0 else { return }
            let kind = (st.st_mode & S_IFMT) == S_IFDIR ? "dir" : (st.st_mode & S_IFMT) == S_IFLNK ? "link" : "file"
            let mtime = kind == "dir" ? 0 : Int(st.st_mtim.tv_sec) * 1_000_000_000 + Int(st.st_mtim.tv_nsec)
            out[rel] = Entry(kind: kind, size: kind == "file" ? Int(st.st_size) : 0, mtime: mtime,
                             link: kind == "link" ? try? FileManager.default.destinationOfSymbolicLink(atPath: full) : nil)
            if kind == "dir" {
                for n in (try? FileManager.default.contentsOfDirectory(atPath: full)) ?? [] { walk(rel.isEmpty ? n : rel + "/" + n) }
            }
        }
        walk("")
        return out
    }

    func launch(_ args: [String], cwd: String, env: [String: String] = [:]) throws -> (code: Int32, signaled: Bool, stdout: String, stderr: String) {
        guard let bin = shardRunnerBinary() else { throw XCTSkip("runner executable not built next to the tests") }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: bin)
        p.arguments = args
        p.currentDirectoryURL = URL(fileURLWithPath: cwd)
        p.environment = shardEnvironment(env)
        let out = Pipe(), err = Pipe()
        p.standardOutput = out; p.standardError = err
        p.standardInput = FileHandle.nullDevice
        try p.run()
        let o = out.fileHandleForReading.readDataToEndOfFile(), e = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, p.terminationReason == .uncaughtSignal, String(decoding: o, as: UTF8.self), String(decoding: e, as: UTF8.self))
    }

    /// Runs `executable args` in `cwd`, returning whether it exited (not signalled).
    @discardableResult
    func runTool(_ executable: String, _ args: [String], cwd: String, env: [String: String] = [:]) throws -> Int32 {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: executable)
        p.arguments = args
        p.currentDirectoryURL = URL(fileURLWithPath: cwd)
        p.environment = shardEnvironment(env)
        p.standardOutput = FileHandle.nullDevice; p.standardError = FileHandle.nullDevice
        p.standardInput = FileHandle.nullDevice
        try p.run()
        p.waitUntilExit()
        return p.terminationStatus
    }

    /// Files whose name contains the marker, anywhere under `dirs`.
    func markers(in dirs: [String]) -> [String] {
        var found: [String] = []
        for d in dirs {
            guard let e = FileManager.default.enumerator(atPath: d) else { continue }
            while let p = e.nextObject() as? String { if (p as NSString).lastPathComponent.hasPrefix(Self.marker) { found.append(d + "/" + p) } }
        }
        return found
    }

    /// Seeded random command lines (commands, options, values, hostile strings): the runner
    /// always exits 0, 1 or 2, never by a signal, and writes nothing outside results/.
    func testFuzzedArguments() throws {
        guard shardRunnerBinary() != nil else { throw XCTSkip("runner executable not built next to the tests") }
        let root = tempDir("argfuzz")
        defer { try? FileManager.default.removeItem(atPath: root) }
        let work = root + "/work"
        try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
        try Self.config().write(toFile: work + "/c.json", atomically: false, encoding: .utf8)
        let words = ["run", "validate", "plan", "merge", "plot", "slurm", "init", "help", "config", "c.json", "results/ok", "nope.json",
                     "--jobs", "-j", "--data", "--shard", "--trial", "--fresh", "--quiet", "--verbose", "--help", "--version", "--partition",
                     "--time", "--cpus-per-task", "--max-parallel", "--jobs=2", "--shard=0/2", "0", "1", "-1", "2/3", "3/2", "1e9",
                     "eval", "predict", "--split", "--output", "-o", "p.csv", "results/ok/trials", "test",
                     "99999999999999999999", "", " ", "\n", "a\nb", "../..", "/", ".", "$(touch \(Self.marker))", "`touch \(Self.marker)`",
                     "x'y", "\"", "--", "-", "—jobs", "--jobs=", "ok.t0", String(repeating: "z", count: 300)]
        var rng = SeededGenerator(seed: 2026)
        let before = Self.snapshot(root, except: "work/results")
        for _ in 0..<60 {
            let n = 1 + rng.int(below: 4)
            let args = (0..<n).map { _ in words[rng.int(below: words.count)] }
            let r = try launch(args, cwd: work)
            XCTAssertFalse(r.signaled, "\(args): killed by a signal\n\(r.stderr)")
            XCTAssertTrue([0, 1, 2].contains(r.code), "\(args): exit \(r.code)\n\(r.stderr)")
            XCTAssertFalse(r.stderr.contains("Fatal error"), "\(args): \(r.stderr)")
        }
        let after = Self.snapshot(root, except: "work/results")
        // `runner init NAME` may write NAME.json in the working directory: the only file allowed.
        let changed = Set(before.keys).union(after.keys).filter { before[$0] != after[$0] && !($0.hasPrefix("work/") && $0.hasSuffix(".json") && !$0.dropFirst(5).contains("/")) }
        XCTAssertEqual(changed.sorted(), [])
        XCTAssertEqual(markers(in: [root]), [])
    }

    func testHostileInputs() throws {
        guard shardRunnerBinary() != nil else { throw XCTSkip("runner executable not built next to the tests") }
        let cases = Self.cases
        XCTAssertGreaterThanOrEqual(cases.count, 40)
        let gnuplot = ["/usr/bin/gnuplot", "/usr/local/bin/gnuplot"].first { FileManager.default.isExecutableFile(atPath: $0) }
        var scriptsRun = 0
        for k in cases {
            let root = tempDir("hostile")
            defer { try? FileManager.default.removeItem(atPath: root) }
            let work = root + "/work", victim = root + "/outside/victim"
            try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
            try FileManager.default.createDirectory(atPath: victim + "/trials", withIntermediateDirectories: true)
            try "keep".write(toFile: victim + "/file.txt", atomically: false, encoding: .utf8)
            try "keep".write(toFile: victim + "/trials/keep.txt", atomically: false, encoding: .utf8)
            if let text = k.config { try text.write(toFile: work + "/" + k.configFile, atomically: false, encoding: .utf8) }
            try k.setup?(root)
            let allowed = k.results.map { "work/" + $0 }
            let before = Self.snapshot(root, except: allowed)

            let r = try launch(k.args, cwd: work)
            XCTAssertFalse(r.signaled, "\(k.label): killed by a signal\n\(r.stderr)")
            XCTAssertEqual(r.code, k.code, "\(k.label): exit code\nstdout: \(r.stdout)\nstderr: \(r.stderr)")
            if !k.stderr.isEmpty { XCTAssertTrue(r.stderr.contains(k.stderr), "\(k.label): stderr \(r.stderr.debugDescription) lacks \(k.stderr.debugDescription)") }
            XCTAssertFalse(r.stderr.contains("Fatal error"), "\(k.label): \(r.stderr)")

            // Run every script the runner generated, as the README says to.
            if let results = k.results {
                let dir = work + "/" + results
                if let gnuplot, FileManager.default.fileExists(atPath: dir + "/plots.gp") {
                    try runTool(gnuplot, [results + "/plots.gp"], cwd: work); scriptsRun += 1
                }
                for script in ["slurm/array.sbatch", "slurm/merge.sbatch"] where FileManager.default.fileExists(atPath: dir + "/" + script) {
                    try runTool("/bin/bash", [dir + "/" + script], cwd: work, env: ["SLURM_ARRAY_TASK_ID": "0"]); scriptsRun += 1
                }
            }
            k.check?(root)
            let after = Self.snapshot(root, except: allowed)
            let changed = Set(before.keys).union(after.keys).filter { before[$0] != after[$0] }.sorted()
            XCTAssertEqual(changed, [], "\(k.label): files outside the results folder changed")
            XCTAssertEqual(markers(in: [root, NSTemporaryDirectory()]), [], "\(k.label): an injected command ran")
            XCTAssertFalse(FileManager.default.fileExists(atPath: "/tmp/runner-hostile-abs"), k.label)
        }
        if gnuplot != nil { XCTAssertGreaterThan(scriptsRun, 3, "generated scripts were run") }
    }
}
