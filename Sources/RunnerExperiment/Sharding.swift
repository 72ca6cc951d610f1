import Foundation

/// Which trials of the expansion order this process runs.
public enum TrialSelection: Equatable, Sendable {
    case all
    /// Trials with `index % count == index`.
    case shard(index: Int, count: Int, source: String)
    /// Exactly one trial.
    case trial(index: Int, source: String)

    public func contains(_ i: Int) -> Bool {
        switch self {
        case .all: true
        case let .shard(k, n, _): i % n == k
        case let .trial(k, _): i == k
        }
    }

    public var description: String {
        switch self {
        case .all: "all trials"
        case let .shard(k, n, s): "shard \(k)/\(n) (from \(s))"
        case let .trial(k, s): "trial \(k) (from \(s))"
        }
    }

    /// The selection a cluster engine implies through its environment, if any:
    /// Slurm job arrays (`SLURM_ARRAY_TASK_ID` with `SLURM_ARRAY_TASK_COUNT` or
    /// `SLURM_ARRAY_TASK_MIN`/`MAX`), Kubernetes Indexed Jobs (`JOB_COMPLETION_INDEX`, one
    /// trial per index) and GNU parallel (`PARALLEL_SEQ`, 1-based, one trial per job).
    public static func fromEnvironment(_ env: [String: String]) throws(ConfigError) -> TrialSelection? {
        func int(_ k: String) throws(ConfigError) -> Int? {
            guard let v = env[k] else { return nil }
            guard let i = Int(v.trimmingCharacters(in: .whitespaces)) else {
                throw .invalidValue(path: "environment \(k)", message: "expected an integer, got \"\(v)\"")
            }
            return i
        }
        if let id = try int("SLURM_ARRAY_TASK_ID") {
            let lo = try int("SLURM_ARRAY_TASK_MIN") ?? 0
            var count = try int("SLURM_ARRAY_TASK_COUNT")
            var how = "SLURM_ARRAY_TASK_ID=\(id), SLURM_ARRAY_TASK_COUNT=\(count.map(String.init) ?? "?")"
            if count == nil, let hi = try int("SLURM_ARRAY_TASK_MAX") {
                count = hi - lo + 1
                how = "SLURM_ARRAY_TASK_ID=\(id), SLURM_ARRAY_TASK_MIN=\(lo), SLURM_ARRAY_TASK_MAX=\(hi)"
            }
            guard let n = count, n >= 1, id - lo >= 0, id - lo < n else {
                throw .invalidValue(path: "environment SLURM_ARRAY_TASK_ID", message: "\(id) does not fit the array (\(how))")
            }
            return .shard(index: id - lo, count: n, source: how)
        }
        if let k = try int("JOB_COMPLETION_INDEX") {
            guard k >= 0 else { throw .invalidValue(path: "environment JOB_COMPLETION_INDEX", message: "must be ≥ 0, got \(k)") }
            return .trial(index: k, source: "JOB_COMPLETION_INDEX=\(k)")
        }
        if let s = try int("PARALLEL_SEQ") {
            guard s >= 1 else { throw .invalidValue(path: "environment PARALLEL_SEQ", message: "must be ≥ 1, got \(s)") }
            return .trial(index: s - 1, source: "PARALLEL_SEQ=\(s)")
        }
        return nil
    }

    /// Parses `--shard I/N`.
    public static func parseShard(_ text: String) -> TrialSelection? {
        let parts = text.split(separator: "/")
        guard parts.count == 2, let i = Int(parts[0]), let n = Int(parts[1]), n >= 1, i >= 0, i < n else { return nil }
        return .shard(index: i, count: n, source: "--shard")
    }
}

/// A Slurm batch script running the experiment as a job array, one trial per task, and a
/// second script for the dependent merge step.
public struct SlurmScripts: Sendable {
    public let array: String
    public let merge: String

    /// `#SBATCH` lines are read by sbatch, not by a shell, and cannot quote: a value that
    /// is not a plain word (letters, digits, `/._+:,@=-`) is refused, naming where it came from.
    public init(plan: ExperimentPlan, runner: String, configPath: String, workingDirectory: String,
                partition: String?, time: String?, cpusPerTask: Int, maxParallel: Int?, dataOverride: String?) throws(ConfigError) {
        func word(_ value: String, _ what: String) throws(ConfigError) -> String {
            guard isPlainWord(value) else {
                throw .invalidValue(path: what, message: "\(displayString(value)) cannot be written into an #SBATCH line (only letters, digits and /._+:,@=- are safe there); use a plain name or path")
            }
            return value
        }
        let n = plan.trials.count
        let logs = try word("\(plan.directory)/slurm", "the results folder")
        var common = ["#SBATCH --chdir=\(try word(workingDirectory, "the working directory"))"]
        if let partition { common.append("#SBATCH --partition=\(try word(partition, "--partition"))") }
        if let time { common.append("#SBATCH --time=\(try word(time, "--time"))") }
        let data = dataOverride.map { " --data \(shellQuote($0))" } ?? ""
        array = """
        #!/bin/bash
        # Runs \(plan.name) as a Slurm job array: task i trains trial i of \(n)
        # (--trial $SLURM_ARRAY_TASK_ID, so a subset reruns with: sbatch --array=3,7 THIS_FILE).
        #SBATCH --job-name=runner-\(plan.name)
        #SBATCH --array=0-\(n - 1)\(maxParallel.map { "%\($0)" } ?? "")
        #SBATCH --cpus-per-task=\(cpusPerTask)
        #SBATCH --output=\(logs)/%A_%a.out
        \(common.joined(separator: "\n"))
        exec \(shellQuote(runner)) run \(shellQuote(configPath))\(data) --trial "$SLURM_ARRAY_TASK_ID" --quiet

        """
        merge = """
        #!/bin/bash
        # Rebuilds the summary, tables and plots of \(plan.name) once the array has ended.
        #SBATCH --job-name=runner-\(plan.name)-merge
        #SBATCH --cpus-per-task=1
        #SBATCH --output=\(logs)/merge_%j.out
        \(common.joined(separator: "\n"))
        exec \(shellQuote(runner)) merge \(shellQuote(plan.directory))

        """
    }
}

/// One shell word: plain when it is made of safe ASCII characters only, otherwise in single
/// quotes (inside which a shell expands nothing), with each `'` written as `'\''`.
public func shellQuote(_ s: String) -> String {
    isPlainWord(s) ? s : "'" + s.replacingOccurrences(of: "'", with: "'\\''") + "'"
}

/// Non-empty and only ASCII letters, digits and `/._-+=:,@`: safe unquoted in a shell word
/// and in an `#SBATCH` line.
func isPlainWord(_ s: String) -> Bool {
    !s.isEmpty && s.unicodeScalars.allSatisfy { $0.isASCII && (CharacterSet.alphanumerics.contains($0) || "/._-+=:,@".unicodeScalars.contains($0)) }
}
