import Foundation
import Dispatch
import Runner
import RunnerBench

// Benchmarks (not tests). Single-threaded unless stated. Used by benchmarks/run.sh, which
// runs the numpy reference side by side and prints ratios.
//
//   runner-bench                       everything, human-readable
//   runner-bench sgemm M,N,K[,tA,tB]   one SGEMM shape           (--json for one JSON line)
//   runner-bench train --hidden 100,100 --batch 100 [--batchnorm] [--dropout P] [--seconds S]
//   runner-bench train --convnet F,S,H --batch 50 [--threads T]   three-layer convnet steps
//   runner-bench conv [--threads T]    convolution layer throughput (T threads per layer)
//   runner-bench conv --shape C,H,W,F,K --batch B [--threads T] [--json]   one conv layer, fwd+bwd
//   runner-bench check                 only the CPU-targeting check
//
// Every mode first checks that SIMD code was compiled for this CPU and refuses to report
// otherwise (--force reports anyway, marked). Every argument is checked before anything
// runs: a bad one is an `error: …` line on stderr and exit status 2, never a trap.

let usage = """
    usage: runner-bench [all]                      SGEMM shapes, training steps, convolution
           runner-bench sgemm M,N,K[,tA,tB] [--seconds S] [--tile wide|narrow] [--json]
                                                   one SGEMM shape (tA, tB: 0/1, n/t or false/true); --tile
                                                   times a register tile other than the target's
           runner-bench train [--hidden H1,H2,…] [--batch B] [--batchnorm] [--dropout P]
                              [--seconds S] [--json]
                                                   training steps of an fc net (default --hidden 100,100
                                                   --batch 100 --dropout 0 --seconds 3)
           runner-bench train --convnet F,S,H [--batch B] [--threads T] [--seconds S] [--json]
                                                   training steps of the three-layer convnet (F filters
                                                   S×S, hidden H) on 3×32×32 inputs, T threads per layer
           runner-bench conv [--seconds S] [--threads T]
                                                   convolution layer throughput (T threads per layer, default 1)
           runner-bench conv --shape C,H,W,F,K [--batch B] [--threads T] [--seconds S] [--json]
                                                   one "same"-padded conv layer C×H×W → F K×K: fwd+bwd ms
           runner-bench check                      only the CPU-targeting check
    --force reports even when the build lacks the CPU-targeting flag; --help shows this.
    """

func say(_ s: String) { FileHandle.standardOutput.write(Data((s + "\n").utf8)) }
func eprint(_ s: String) { FileHandle.standardError.write(Data((s + "\n").utf8)) }
/// A refusal or a bad argument: `error: …` on stderr, exit status 2.
func fail(_ s: String) -> Never { eprint("error: " + s); exit(2) }
func usageError(_ s: String) -> Never { eprint("error: " + s + "\n(runner-bench --help shows the usage)"); exit(2) }

// Limits that keep a typo from allocating the machine away (or overflowing a size).
let maxSeconds = 3600.0
let maxDimension = 1_000_000                 // sgemm M, N, K
let maxOperandElements = 1 << 28            // 1 GiB of Float per sgemm operand
let maxWidth = 100_000                      // one hidden layer
let maxDepth = 100                          // hidden layers
let maxBatch = 100_000
let maxParameters = 100_000_000             // fc weights and biases
let maxActivations = 100_000_000            // batch × (3072 + Σ hidden)

/// The command line, consumed as options are recognised; whatever is left over is an error.
struct Arguments {
    var rest: [String]

    mutating func flag(_ f: String) -> Bool {
        guard let i = rest.firstIndex(of: f) else { return false }
        rest.remove(at: i)
        if rest.contains(f) { usageError("\(f) is given twice") }
        return true
    }

    mutating func value(_ f: String) -> String? {
        guard let i = rest.firstIndex(of: f) else { return nil }
        guard i + 1 < rest.count, !rest[i + 1].hasPrefix("--") else { usageError("\(f) needs a value") }
        let v = rest[i + 1]
        rest.removeSubrange(i...(i + 1))
        if rest.contains(f) { usageError("\(f) is given twice") }
        return v
    }

    /// Fails on anything not consumed.
    func finish(_ mode: String) {
        guard let extra = rest.first else { return }
        if extra.hasPrefix("-") { usageError("unknown option \(extra) for runner-bench \(mode)") }
        usageError("unexpected argument '\(extra)' for runner-bench \(mode)")
    }
}

func seconds(_ text: String?, default d: Double) -> Double {
    guard let text else { return d }
    guard let v = Double(text), v.isFinite, v > 0, v <= maxSeconds else {
        usageError("--seconds must be a number of seconds above 0 and at most \(Int(maxSeconds)), got '\(text)'")
    }
    return v
}

func integer(_ text: String, _ what: String, _ range: ClosedRange<Int>) -> Int {
    guard let v = Int(text.trimmingCharacters(in: .whitespaces)) else { usageError("\(what) must be a whole number, got '\(text)'") }
    guard range.contains(v) else { usageError("\(what) must be between \(range.lowerBound) and \(range.upperBound), got \(v)") }
    return v
}

func transposeFlag(_ text: String, _ what: String) -> Bool {
    switch text.lowercased() {
    case "0", "n", "false": return false
    case "1", "t", "true": return true
    default: usageError("\(what) must be 0/1, n/t or false/true, got '\(text)'")
    }
}

struct GEMMShape { let m, n, k: Int; let transA, transB: Bool }

func gemmShape(_ spec: String) -> GEMMShape {
    let p = spec.split(separator: ",", omittingEmptySubsequences: false).map { String($0).trimmingCharacters(in: .whitespaces) }
    guard p.count == 3 || p.count == 5 else { usageError("sgemm needs M,N,K or M,N,K,tA,tB, got '\(spec)'") }
    let m = integer(p[0], "sgemm M", 1...maxDimension)
    let n = integer(p[1], "sgemm N", 1...maxDimension)
    let k = integer(p[2], "sgemm K", 1...maxDimension)
    for (name, count) in [("A (M×K)", m * k), ("B (K×N)", k * n), ("C (M×N)", m * n)] where count > maxOperandElements {
        usageError("sgemm \(m),\(n),\(k): operand \(name) would hold \(count) elements; at most \(maxOperandElements) (1 GiB of Float) each")
    }
    let ta = p.count == 5 ? transposeFlag(p[3], "sgemm tA") : false
    let tb = p.count == 5 ? transposeFlag(p[4], "sgemm tB") : false
    return GEMMShape(m: m, n: n, k: k, transA: ta, transB: tb)
}

struct TrainSettings {
    let hidden: [Int]; let batch: Int; let batchnorm: Bool; let dropout: Double; let seconds: Double
    /// The three-layer convnet (filters, filter size, hidden) instead of an fc net.
    var convnet: (filters: Int, size: Int, hidden: Int)? = nil
    var threads = 1
}

/// `--threads T`: the layers' thread budget (1 to 256).
func threadsOption(_ a: inout Arguments) -> Int {
    guard let t = a.value("--threads") else { return 1 }
    guard let v = Int(t), v >= 1, v <= 256 else { usageError("--threads must be an integer from 1 to 256, got '\(t)'") }
    return v
}

/// A comma-separated list of exactly `names.count` positive integers (each at most `limit`).
func integers(_ text: String, _ option: String, _ names: [String], limit: Int) -> [Int] {
    let p = text.split(separator: ",", omittingEmptySubsequences: false).map { String($0).trimmingCharacters(in: .whitespaces) }
    guard p.count == names.count else { usageError("\(option) needs \(names.joined(separator: ",")), got '\(text)'") }
    return zip(p, names).map { integer($0, "\(option) \($1)", 1...limit) }
}

/// The rows and features of the random training data of `train`.
let trainRows = 4000, trainFeatures = 3072

func trainSettings(_ a: inout Arguments) -> TrainSettings {
    let hiddenText = a.value("--hidden") ?? "100,100"
    let items = hiddenText.split(separator: ",", omittingEmptySubsequences: false)
    guard items.count <= maxDepth else { usageError("--hidden lists \(items.count) layers; at most \(maxDepth)") }
    let hidden = items.map { integer(String($0), "--hidden layer size", 1...maxWidth) }
    let batch = integer(a.value("--batch") ?? "100", "--batch", 1...maxBatch)
    let dropoutText = a.value("--dropout") ?? "0"
    guard let dropout = Double(dropoutText), dropout >= 0, dropout < 1 else {
        usageError("--dropout is the probability of dropping a unit, at least 0 and below 1, got '\(dropoutText)'")
    }
    let secs = seconds(a.value("--seconds"), default: 3)
    let batchnorm = a.flag("--batchnorm")
    let threads = threadsOption(&a)
    if let c = a.value("--convnet") {
        let v = integers(c, "--convnet", ["F", "S", "H"], limit: 4096)
        guard v[1] % 2 == 1, v[1] <= 31 else { usageError("--convnet filter size must be odd and at most 31, got \(v[1])") }
        guard batch * v[0] * 1024 <= maxActivations else { usageError("--batch \(batch) with \(v[0]) filters needs too many activations") }
        return TrainSettings(hidden: [], batch: batch, batchnorm: false, dropout: 0, seconds: secs,
                             convnet: (v[0], v[1], v[2]), threads: threads)
    }
    let widths = [trainFeatures] + hidden + [10]
    let parameters = zip(widths, widths.dropFirst()).reduce(0) { $0 + ($1.0 + 1) * $1.1 }
    guard parameters <= maxParameters else {
        usageError("--hidden \(hiddenText) makes a network of \(parameters) parameters; at most \(maxParameters)")
    }
    let activations = batch * widths.reduce(0, +)
    guard activations <= maxActivations else {
        usageError("--batch \(batch) with --hidden \(hiddenText) needs \(activations) activations per step; at most \(maxActivations)")
    }
    return TrainSettings(hidden: hidden, batch: batch, batchnorm: batchnorm, dropout: dropout, seconds: secs, threads: threads)
}

// MARK: the command line, checked in full before anything runs

var arguments = Arguments(rest: Array(CommandLine.arguments.dropFirst()))
if arguments.flag("--help") || arguments.flag("-h") || arguments.rest.first == "help" { say(usage); exit(0) }
let json = arguments.flag("--json")
let force = arguments.flag("--force")
let mode = arguments.rest.first.map { $0.hasPrefix("-") ? "all" : $0 } ?? "all"
if mode != "all" || arguments.rest.first == "all" { arguments.rest.removeFirst() }
guard ["all", "check", "sgemm", "train", "conv"].contains(mode) else {
    usageError("unknown mode '\(mode)' (all, check, sgemm, train, conv)")
}
if json && !["sgemm", "train", "conv"].contains(mode) { usageError("--json applies to sgemm, train and conv only") }

var gemm: GEMMShape?
var gemmTile: GEMMTiling?
var trainSet: TrainSettings?
var modeSeconds = 1.0
var convThreads = 1
var convShape: [Int]?
var convBatch = 50
switch mode {
case "sgemm":
    modeSeconds = seconds(arguments.value("--seconds"), default: 1)
    switch arguments.value("--tile") {
    case nil: break
    case "wide": gemmTile = .wide
    case "narrow": gemmTile = .narrow
    case let t?: usageError("--tile is wide (12×32) or narrow (6×16), got '\(t)'")
    }
    guard let i = arguments.rest.firstIndex(where: { !$0.hasPrefix("--") }) else {
        arguments.finish(mode)   // an unknown option is the better message
        usageError("sgemm needs M,N,K[,tA,tB]")
    }
    gemm = gemmShape(arguments.rest.remove(at: i))
case "train":
    trainSet = trainSettings(&arguments)
case "conv":
    modeSeconds = seconds(arguments.value("--seconds"), default: 1)
    convThreads = threadsOption(&arguments)
    if let s = arguments.value("--shape") {
        convShape = integers(s, "--shape", ["C", "H", "W", "F", "K"], limit: 4096)
        if convShape![4] % 2 == 0 { usageError("--shape K must be odd (\"same\" padding), got \(convShape![4])") }
    }
    convBatch = integer(arguments.value("--batch") ?? "50", "--batch", 1...maxBatch)
    if let s = convShape, convBatch * max(s[0], s[3]) * s[1] * s[2] > maxActivations {
        usageError("--batch \(convBatch) with --shape \(s.map(String.init).joined(separator: ",")) needs too many activations")
    }
    if json && convShape == nil { usageError("--json applies to conv --shape only") }
default:
    break
}
arguments.finish(mode)

// MARK: the CPU-targeting check

/// Below this the SIMD loop is not running as vector FMA: the build lacks -target-cpu.
let simdThreshold = 8.0
let simd = simdSanityGFLOPS()
let simdOK = simd >= simdThreshold
if !simdOK {
    let msg = "SIMD sanity loop runs at \(String(format: "%.2f", simd)) GFLOP/s (expected tens): this build lacks the CPU-targeting flag (-target-cpu native in Package.swift)"
    if !force { fail(msg + "; refusing to report (use --force to report anyway)") }
    eprint("WARNING: " + msg)
}

func jsonLine(_ pairs: [(String, Any)]) -> String {
    "{" + pairs.map { k, v in
        let vs: String
        switch v {
        case let d as Double: vs = d.isFinite ? "\(d)" : "null"
        case let i as Int: vs = "\(i)"
        case let b as Bool: vs = b ? "true" : "false"
        default: vs = "\"\(v)\""
        }
        return "\"\(k)\": \(vs)"
    }.joined(separator: ", ") + "}"
}

func sgemm(_ s: GEMMShape, seconds: Double, tiling: GEMMTiling?) {
    let r = benchmarkGEMM(shapes: [(s.m, s.n, s.k, s.transA, s.transB)], minSeconds: seconds, tiling: tiling)[0]
    let tile = (tiling ?? .forTarget).description
    if json { say(jsonLine([("shape", r.label), ("gflops", r.gflops), ("tile", tile), ("simd_ok", simdOK)])) }
    else { say("sgemm \(r.label), tile \(tile): \(String(format: "%.1f", r.gflops)) GFLOP/s") }
}

/// Solver steps (random minibatch with replacement, forward, backward, Adam update) on
/// random normal data 4000 × 3072, 10 classes, float32, one thread: samples per second.
func train(_ t: TrainSettings) -> (name: String, sps: Double, steps: Int) {
    var rng = SeededGenerator(seed: 1)
    let rows = trainRows, d = trainFeatures, batch = t.batch
    let x = (0..<(rows * d)).map { _ in Float(rng.normal()) }
    let y = (0..<rows).map { _ in Int32(rng.int(below: 10)) }
    let net: Network<Float>
    let context = ComputeContext(productThreads: t.threads)
    do {
        if let c = t.convnet {
            net = try Network<Float>(inputShape: [3, 32, 32], specs: threeLayerConvnetSpecs(numFilters: c.filters, filterSize: c.size, hiddenDim: c.hidden, numClasses: 10),
                                     initialization: .scale(1e-2), seed: 1, context: context)
        } else {
            net = try Network<Float>(inputShape: [d], specs: fullyConnectedSpecs(hiddenDims: t.hidden, numClasses: 10, normalization: t.batchnorm ? "batchnorm" : "none", dropout: t.dropout),
                                     initialization: .scale(5e-2), seed: 1, context: context)
        }
    } catch {
        fail("cannot build the network: \(error)")
    }
    let opt = Optimizer<Float>(settings: OptimizerSettings(kind: .adam, learningRate: 1e-3), parameters: net.parameters)
    opt.context = context   // as in a run: the update of large parameters uses the thread budget too
    let xb = Tensor<Float>(shape: t.convnet == nil ? [batch, d] : [batch, 3, 32, 32])
    var idx = [Int](repeating: 0, count: batch)
    var yb = [Int32](repeating: 0, count: batch)
    func step() {
        for i in 0..<batch { idx[i] = rng.int(below: rows); yb[i] = y[idx[i]] }
        x.withUnsafeBufferPointer { xp in idx.withUnsafeBufferPointer { ip in
            guard let xa = xp.baseAddress, let ia = ip.baseAddress else { return }   // never empty: batch ≥ 1
            gatherRows(from: xa, rowSize: d, rows: ia, count: batch, into: xb.data)
        } }
        yb.withUnsafeBufferPointer { lp in
            guard let la = lp.baseAddress else { return }
            _ = net.lossAndGradients(xb, labels: la)
        }
        opt.update()
    }
    let w0 = DispatchTime.now().uptimeNanoseconds
    var warm = 0
    while warm < 5 || Double(DispatchTime.now().uptimeNanoseconds - w0) * 1e-9 < 0.5 { step(); warm += 1 }
    var steps = 0
    let t0 = DispatchTime.now().uptimeNanoseconds
    var elapsed = 0.0
    repeat { step(); steps += 1; elapsed = Double(DispatchTime.now().uptimeNanoseconds - t0) * 1e-9 } while elapsed < t.seconds
    var name = t.convnet.map { "convnet[\($0.filters) \($0.size)x\($0.size), hidden \($0.hidden)]" }
        ?? "fc[" + t.hidden.map(String.init).joined(separator: ",") + "]"
    if t.batchnorm { name += "+batchnorm" }
    if t.dropout > 0 { name += "+dropout\(t.dropout)" }
    name += " batch\(batch)" + (t.threads > 1 ? " threads\(t.threads)" : "")
    return (name, Double(steps * batch) / elapsed, steps)
}

switch mode {
case "check":
    say(String(format: "SIMD FMA loop: %.1f GFLOP/s (%@); GEMM register tile %@ for a %d-bit target", simd,
               simdOK ? "compiled for this CPU" : "NOT compiled for this CPU", GEMMTiling.forTarget.description, GEMMTiling.targetVectorBits))
case "sgemm":
    if let gemm { sgemm(gemm, seconds: modeSeconds, tiling: gemmTile) }
case "train":
    if let trainSet {
        let r = train(trainSet)
        if json { say(jsonLine([("net", r.name), ("samples_per_sec", r.sps), ("steps", r.steps), ("simd_ok", simdOK)])) }
        else { say("\(r.name): \(String(format: "%.0f", r.sps)) samples/s (\(r.steps) steps)") }
    }
case "conv":
    if let s = convShape {
        guard let r = benchmarkConvLayer(channels: s[0], height: s[1], width: s[2], filters: s[3], size: s[4], batch: convBatch,
                                         threads: convThreads, minSeconds: modeSeconds)
        else { usageError("--shape \(s.map(String.init).joined(separator: ",")) is not a valid convolution") }
        let name = "conv \(s[0])x\(s[1])x\(s[2]) -> \(s[3]) \(s[4])x\(s[4]) batch \(convBatch)"
        if json { say(jsonLine([("layer", name), ("ms", r.total * 1e3), ("forward_ms", r.forward * 1e3), ("backward_ms", r.backward * 1e3), ("threads", convThreads), ("simd_ok", simdOK)])) }
        else { say(String(format: "%@, %d thread(s): fwd+bwd %.2f ms (fwd %.2f, bwd %.2f)", name, convThreads, r.total * 1e3, r.forward * 1e3, r.backward * 1e3)) }
    } else {
        for line in benchmarkConv(minSeconds: modeSeconds, threads: convThreads) { say(line) }
    }
default:   // all
    say(String(format: "SIMD FMA loop: %.1f GFLOP/s (%@)", simd, simdOK ? "compiled for this CPU" : "NOT compiled for this CPU"))
    say("\nSGEMM, one thread (GFLOP/s):")
    let shapes: [(Int, Int, Int, Bool, Bool)] = [
        (100, 100, 3072, false, false), (50, 50, 3072, false, false), (100, 100, 100, false, false), (500, 500, 3072, false, false),
        (3072, 100, 100, true, false), (100, 3072, 100, false, true), (3072, 500, 500, true, false), (500, 3072, 500, false, true),
    ]
    for r in benchmarkGEMM(shapes: shapes.map { ($0.0, $0.1, $0.2, $0.3, $0.4) }, minSeconds: 0.5) {
        say("  \(r.label.padding(toLength: 20, withPad: " ", startingAt: 0)) \(String(format: "%6.1f", r.gflops))")
    }
    say("\ntraining steps, one thread, float32 (samples/s):")
    for (h, b, bn, dp) in [([100, 100, 100, 100, 100], 100, false, 0.0), ([50, 50, 50, 50, 50, 50], 50, true, 0.0),
                           ([100, 100, 100, 100, 100], 100, true, 0.5), ([500, 500, 500, 500], 100, false, 0.0)] {
        let r = train(TrainSettings(hidden: h, batch: b, batchnorm: bn, dropout: dp, seconds: 2))
        say("  \(r.name.padding(toLength: 44, withPad: " ", startingAt: 0)) \(String(format: "%8.0f", r.sps))")
    }
    say("\nconvolution:")
    for line in benchmarkConv(minSeconds: 0.5) { say("  " + line) }
}
