import Foundation

// Wall-time estimates for `runner plan`: a short calibration trains two small reference
// trials on this machine (Float32, one thread, in-memory random CIFAR-shaped data: an fc
// net and a small convnet) and measures the work rate, in the FLOPs of `estimateCost`, that
// training actually reaches (matrix products, elementwise layers, accuracy checks and all).
// A trial's time is then its estimated work divided by the rate of its kind (conv or fc).
//
// The rates are cached per machine (CPU model, cores, runner version) for 30 days in
// `$XDG_CACHE_HOME/runner/calibration.json` (`~/.cache/runner/` without XDG_CACHE_HOME): a
// fixed path of our own, never derived from a config, holding nothing but these numbers,
// so a results folder (whose place a config chooses) is never written by `plan`. When the
// cache cannot be written the calibration is simply run again next time.

/// Measured training throughput of this machine, FLOP/s per trial (one thread).
public struct Calibration: Sendable, Equatable {
    public var fcRate: Double
    public var convRate: Double
    /// Seconds the measurement took (0 when read from the cache).
    public var seconds: Double = 0
    /// Where it is cached (nil when it could not be written or read).
    public var cachePath: String? = nil
    public var fromCache = false

    public init(fcRate: Double, convRate: Double) { self.fcRate = fcRate; self.convRate = convRate }

    /// Estimated seconds of trial `t` whose work is `cost`: at the conv rate when its network
    /// has a convolution, else at the fc rate.
    public func seconds(_ t: TrialPlan, cost: TrialCost) -> Double { cost.flops / (hasConvolution(t.config) ? convRate : fcRate) }

    /// This machine's calibration: from the cache when it holds one for this machine and
    /// runner version younger than 30 days, else measured now (about a second) and cached.
    public static func current(environment: [String: String], version: String) -> Calibration {
        let path = cacheFile(environment)
        let machine = machineKey()
        if let path, let cached = read(path, machine: machine, version: version) { return cached }
        var c = measure()
        if let path {
            let json = JSON.object([
                ("format", .string("runner calibration 1")), ("machine", .string(machine)), ("version", .string(version)),
                ("measured", .number(Date().timeIntervalSince1970.rounded())), ("fc_flops_per_second", .number(c.fcRate.rounded())),
                ("conv_flops_per_second", .number(c.convRate.rounded())),
            ])
            if (try? writeAtomically(json.serialized() + "\n", to: path)) != nil { c.cachePath = path }
        }
        return c
    }

    /// `$XDG_CACHE_HOME/runner/calibration.json`, or `$HOME/.cache/runner/calibration.json`
    /// (XDG base directories: a relative XDG_CACHE_HOME is ignored).
    static func cacheFile(_ env: [String: String]) -> String? {
        if let x = env["XDG_CACHE_HOME"], x.hasPrefix("/") { return x + "/runner/calibration.json" }
        if let h = env["HOME"], h.hasPrefix("/") { return h + "/.cache/runner/calibration.json" }
        return nil
    }

    static func read(_ path: String, machine: String, version: String) -> Calibration? {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8), let j = try? JSON.parse(text),
              case .string("runner calibration 1")? = j["format"], case .string(machine)? = j["machine"], case .string(version)? = j["version"],
              case .number(let when)? = j["measured"], Date().timeIntervalSince1970 - when < 30 * 86400,
              case .number(let fc)? = j["fc_flops_per_second"], case .number(let conv)? = j["conv_flops_per_second"], fc > 0, conv > 0
        else { return nil }
        var c = Calibration(fcRate: fc, convRate: conv)
        c.cachePath = path
        c.fromCache = true
        return c
    }

    /// CPU model and core count, from /proc/cpuinfo.
    public static func machineKey() -> String {
        let info = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? ""
        let model = info.split(separator: "\n").first { $0.hasPrefix("model name") }.map { String($0.split(separator: ":", maxSplits: 1).last ?? "").trimmingCharacters(in: .whitespaces) } ?? "unknown CPU"
        return "\(model) × \(ProcessInfo.processInfo.activeProcessorCount)"
    }

    /// The two reference trials, on 32×32×3 inputs, one epoch each: an fc net [100, 100]
    /// and the default three-layer convnet (32 7×7 filters, the course's).
    static let references: [(conv: Bool, config: String)] = [
        (false, #"{"data": {"num_train": 1000, "num_val": 200, "num_test": 0}, "model": {"hidden_dims": [100, 100]}, "training": {"num_epochs": 1, "batch_size": 100, "train_acc_samples": 200}}"#),
        (true, #"{"data": {"num_train": 50, "num_val": 50, "num_test": 0}, "model": {"type": "three_layer_convnet"}, "training": {"num_epochs": 1, "batch_size": 50, "train_acc_samples": 50}}"#),
    ]

    /// Runs each reference trial until 0.3 s have passed (at least twice) and keeps its best rate.
    static func measure() -> Calibration {
        let started = Date()
        var rates: [Bool: Double] = [:]
        for (conv, text) in references {
            guard let json = try? JSON.parse(text), let plan = try? Sweep.plan(json, defaultName: "calibration"),
                  let trial = plan.trials.first, let cost = try? estimateCost(trial) else { continue }
            let c = trial.config
            let data = SyntheticData.blobs(seed: 1, numTrain: c.numTrain ?? 100, numVal: c.numVal, numTest: 0, sampleShape: c.inputShape)
            var best = 0.0, runs = 0
            let begin = Date()
            while runs < 2 || (Date().timeIntervalSince(begin) < 0.3 && runs < 20) {
                let t0 = Date()
                _ = runTrial(trial, data: data)
                let dt = max(Date().timeIntervalSince(t0), 1e-6)
                best = max(best, cost.flops / dt)
                runs += 1
            }
            rates[conv] = best
        }
        var c = Calibration(fcRate: rates[false] ?? 1e9, convRate: rates[true] ?? rates[false] ?? 1e9)
        c.seconds = Date().timeIntervalSince(started)
        return c
    }
}

/// Whether the trial's network has a convolution (its work runs at the conv rate).
func hasConvolution(_ c: ExperimentConfig) -> Bool { c.layers.contains { $0.kind == "conv" } }

/// A duration for people: `0.4 s`, `12 s`, `3 min 20 s`, `2 h 05 min`.
public func formatDuration(_ s: Double) -> String {
    guard s.isFinite else { return "?" }
    if s < 10 { return String(format: "%.1f s", s) }
    if s < 60 { return String(format: "%.0f s", s) }
    let m = Int(s.rounded()) / 60
    if m < 60 { return String(format: "%d min %02d s", m, Int(s.rounded()) % 60) }
    return String(format: "%d h %02d min", m / 60, m % 60)
}

/// Wall time of `times` (seconds per trial on one core, in plan order) run on `jobs` parallel
/// workers that each take the next trial when free (the scheduler's order). With fewer trials
/// than jobs, each trial's matrix products get the spare cores (see `SharedRun`): counted as
/// a proportional speed-up.
public func estimatedWallTime(_ times: [Double], jobs: Int) -> Double {
    let workers = max(1, min(jobs, times.count))
    let threads = Double(max(1, jobs / workers))
    var free = [Double](repeating: 0, count: workers)
    for t in times.map({ $0 / threads }) {
        let i = free.indices.min { free[$0] < free[$1] }!
        free[i] += t
    }
    return free.max() ?? 0
}
