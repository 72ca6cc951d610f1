import Foundation
import Dispatch
import Runner

// Benchmarks (not tests). Single-threaded unless stated. Used by benchmarks/run.sh, which
// runs the numpy reference side by side and prints ratios.
//
//   runner-bench                       everything, human-readable
//   runner-bench sgemm M,N,K[,tA,tB]   one SGEMM shape           (--json for one JSON line)
//   runner-bench train --hidden 100,100 --batch 100 [--batchnorm] [--dropout P] [--seconds S]
//   runner-bench conv                  convolution layer throughput
//   runner-bench check                 only the CPU-targeting check
//
// Every mode first checks that SIMD code was compiled for this CPU and refuses to report
// otherwise (--force reports anyway, marked).

func say(_ s: String) { FileHandle.standardOutput.write(Data((s + "\n").utf8)) }
func fail(_ s: String) -> Never { FileHandle.standardError.write(Data(("runner-bench: " + s + "\n").utf8)); exit(2) }

var args = Array(CommandLine.arguments.dropFirst())
@MainActor func flag(_ f: String) -> Bool { if let i = args.firstIndex(of: f) { args.remove(at: i); return true }; return false }
@MainActor func value(_ f: String) -> String? {
    guard let i = args.firstIndex(of: f), i + 1 < args.count else { return nil }
    let v = args[i + 1]; args.removeSubrange(i...(i + 1)); return v
}
let json = flag("--json")
let force = flag("--force")

/// Below this the SIMD loop is not running as vector FMA: the build lacks -target-cpu.
let simdThreshold = 8.0
let simd = simdSanityGFLOPS()
let simdOK = simd >= simdThreshold
if !simdOK {
    let msg = "SIMD sanity loop runs at \(String(format: "%.2f", simd)) GFLOP/s (expected tens): this build lacks the CPU-targeting flag (-target-cpu native in Package.swift)"
    if !force { fail(msg + "; refusing to report (use --force to report anyway)") }
    FileHandle.standardError.write(Data(("WARNING: " + msg + "\n").utf8))
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

@MainActor func sgemm(_ spec: String) {
    let p = spec.split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) }
    guard p.count == 3 || p.count == 5, let m = Int(p[0]), let n = Int(p[1]), let k = Int(p[2]) else { fail("sgemm needs M,N,K[,tA,tB]") }
    let ta = p.count == 5 && ["1", "t", "T", "true"].contains(p[3]), tb = p.count == 5 && ["1", "t", "T", "true"].contains(p[4])
    let r = benchmarkGEMM(shapes: [(m, n, k, ta, tb)], minSeconds: Double(value("--seconds") ?? "1") ?? 1)[0]
    if json { say(jsonLine([("shape", r.label), ("gflops", r.gflops), ("simd_ok", simdOK)])) }
    else { say("sgemm \(r.label): \(String(format: "%.1f", r.gflops)) GFLOP/s") }
}

/// Solver steps (random minibatch with replacement, forward, backward, Adam update) on
/// random normal data 4000 × 3072, 10 classes, float32, one thread: samples per second.
func train(hidden: [Int], batch: Int, batchnorm: Bool, dropout: Double, seconds: Double) -> (name: String, sps: Double, steps: Int) {
    var rng = SeededGenerator(seed: 1)
    let rows = 4000, d = 3072
    let x = (0..<(rows * d)).map { _ in Float(rng.normal()) }
    let y = (0..<rows).map { _ in Int32(rng.int(below: 10)) }
    let net = try! Network<Float>(inputShape: [d], specs: fullyConnectedSpecs(hiddenDims: hidden, numClasses: 10, normalization: batchnorm ? "batchnorm" : "none", dropout: dropout),
                                  initialization: .scale(5e-2), seed: 1)
    let opt = Optimizer<Float>(settings: OptimizerSettings(kind: .adam, learningRate: 1e-3), parameters: net.parameters)
    let xb = Tensor<Float>(shape: [batch, d])
    var idx = [Int](repeating: 0, count: batch)
    var yb = [Int32](repeating: 0, count: batch)
    func step() {
        for i in 0..<batch { idx[i] = rng.int(below: rows); yb[i] = y[idx[i]] }
        x.withUnsafeBufferPointer { xp in idx.withUnsafeBufferPointer { ip in
            Float.gatherRows(from: xp.baseAddress!, rowSize: d, rows: ip.baseAddress!, count: batch, into: xb.data)
        } }
        _ = yb.withUnsafeBufferPointer { net.lossAndGradients(xb, labels: $0.baseAddress!) }
        opt.update()
    }
    let w0 = DispatchTime.now().uptimeNanoseconds
    var warm = 0
    while warm < 5 || Double(DispatchTime.now().uptimeNanoseconds - w0) * 1e-9 < 0.5 { step(); warm += 1 }
    var steps = 0
    let t0 = DispatchTime.now().uptimeNanoseconds
    var elapsed = 0.0
    repeat { step(); steps += 1; elapsed = Double(DispatchTime.now().uptimeNanoseconds - t0) * 1e-9 } while elapsed < seconds
    var name = "fc[" + hidden.map(String.init).joined(separator: ",") + "]"
    if batchnorm { name += "+batchnorm" }
    if dropout > 0 { name += "+dropout\(dropout)" }
    name += " batch\(batch)"
    return (name, Double(steps * batch) / elapsed, steps)
}

let mode = args.first.map { $0.hasPrefix("-") ? "all" : $0 } ?? "all"
if mode != "all" { args.removeFirst() }
switch mode {
case "check":
    say(String(format: "SIMD FMA loop: %.1f GFLOP/s (%@)", simd, simdOK ? "compiled for this CPU" : "NOT compiled for this CPU"))
case "sgemm":
    guard let spec = args.first else { fail("sgemm needs M,N,K[,tA,tB]") }
    sgemm(spec)
case "train":
    let hidden = (value("--hidden") ?? "100,100").split(separator: ",").compactMap { Int($0) }
    let batch = Int(value("--batch") ?? "100") ?? 100
    let dropout = Double(value("--dropout") ?? "0") ?? 0
    let seconds = Double(value("--seconds") ?? "3") ?? 3
    let r = train(hidden: hidden, batch: batch, batchnorm: flag("--batchnorm"), dropout: dropout, seconds: seconds)
    if json { say(jsonLine([("net", r.name), ("samples_per_sec", r.sps), ("steps", r.steps), ("simd_ok", simdOK)])) }
    else { say("\(r.name): \(String(format: "%.0f", r.sps)) samples/s (\(r.steps) steps)") }
case "conv":
    for line in benchmarkConv(minSeconds: Double(value("--seconds") ?? "1") ?? 1) { say(line) }
case "all":
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
        let r = train(hidden: h, batch: b, batchnorm: bn, dropout: dp, seconds: 2)
        say("  \(r.name.padding(toLength: 44, withPad: " ", startingAt: 0)) \(String(format: "%8.0f", r.sps))")
    }
    say("\nconvolution:")
    for line in benchmarkConv(minSeconds: 0.5) { say("  " + line) }
default:
    fail("unknown mode \(mode) (all, check, sgemm, train, conv)")
}
