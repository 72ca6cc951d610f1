import Foundation

/// CSV cell: plain unless it needs quoting (comma, quote). Control characters (a newline in
/// an error message) become spaces, so every record is one line.
func csvCell(_ raw: String) -> String {
    let s = raw.unicodeScalars.contains(where: isControl) ? String(String.UnicodeScalarView(raw.unicodeScalars.map { isControl($0) ? " " : $0 })) : raw
    return s.contains(where: { $0 == "," || $0 == "\"" }) ? "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : s
}

/// C0 controls, DEL and C1 controls: never inside a name, a path or a generated script.
func isControl(_ c: Unicode.Scalar) -> Bool { c.value < 0x20 || (0x7F...0x9F).contains(c.value) }

func csv(_ header: [String], _ rows: [[String]]) -> String {
    ([header] + rows).map { $0.map(csvCell).joined(separator: ",") }.joined(separator: "\n") + "\n"
}

/// Formats a value as the trial's dtype would print it: Float's shortest round-trip form
/// for float32 runs (the numbers really are Floats), Double's for float64.
func fmt(_ v: Double, dtype: String) -> String {
    if v.isNaN { return "nan" }
    if v.isInfinite { return v > 0 ? "inf" : "-inf" }
    return dtype == "float64" ? "\(v)" : "\(Float(v))"
}

func fmtAcc(_ v: Double?) -> String {
    guard let v, !v.isNaN else { return "" }
    return "\(v)"
}

/// The files of one trial, relative to the results folder: `trials/<id>/…`.
public struct TrialFiles: Sendable {
    public let directory: String
    public init(id: String) { directory = "trials/\(id)" }
    public var config: String { directory + "/config.json" }
    public var loss: String { directory + "/loss.csv" }
    public var accuracy: String { directory + "/accuracy.csv" }
    /// Written last: its presence marks the trial as complete.
    public var summary: String { directory + "/summary.csv" }
    /// The files the runner writes in a trial folder (the only ones it ever deletes there).
    public static let runnerFiles = ["config.json", "loss.csv", "accuracy.csv", "summary.csv"]
}

/// One row of summary.csv (per trial and for the whole sweep).
public struct TrialSummary: Sendable {
    public var index: Int
    public var id: String
    public var arm: String
    public var parameters: [(path: String, value: String)]
    public var status: String
    public var finalTrainAcc: Double?
    public var finalValAcc: Double?
    public var bestTrainAcc: Double?
    public var bestValAcc: Double?
    public var bestEpoch: Int?
    public var testAcc: Double?
    public var finalLoss: String
    public var epochs: Int
    public var iterations: Int
    public var seconds: Double
    public var message: String

    public static let fixedColumns = ["status", "final_train_acc", "final_val_acc", "best_train_acc", "best_val_acc", "best_epoch",
                                      "test_acc", "final_loss", "epochs", "iterations", "seconds", "message"]

    public var header: [String] { ["index", "id", "arm"] + parameters.map(\.path) + TrialSummary.fixedColumns }
    public var cells: [String] {
        ["\(index)", id, arm] + parameters.map(\.value) + [
            status, fmtAcc(finalTrainAcc), fmtAcc(finalValAcc), fmtAcc(bestTrainAcc), fmtAcc(bestValAcc),
            bestEpoch.map(String.init) ?? "", fmtAcc(testAcc), finalLoss, "\(epochs)", "\(iterations)",
            String(format: "%.2f", seconds), message,
        ]
    }

    /// Reads a one-row summary.csv written by `cells` (for resume and merge).
    public static func parse(_ text: String?) -> [String: String]? {
        guard let text else { return nil }
        let lines = text.split(separator: "\n", omittingEmptySubsequences: true).map { parseCSVLine(String($0)) }
        guard lines.count == 2, lines[0].count == lines[1].count else { return nil }
        return Dictionary(zip(lines[0], lines[1]), uniquingKeysWith: { a, _ in a })
    }
}

/// Splits one CSV line (RFC 4180 quoting).
public func parseCSVLine(_ line: String) -> [String] {
    var out: [String] = [], cur = "", quoted = false
    var it = Array(line).makeIterator()
    var pending: Character? = nil
    while let c = pending ?? it.next() {
        pending = nil
        if quoted {
            if c == "\"" {
                if let n = it.next() { if n == "\"" { cur.append("\"") } else { quoted = false; pending = n } } else { quoted = false }
            } else { cur.append(c) }
        } else if c == "\"" { quoted = true }
        else if c == "," { out.append(cur); cur = "" }
        else { cur.append(c) }
    }
    out.append(cur)
    return out
}

/// Writes a finished trial's files: config, histories, then its summary (the completion mark).
public func writeTrial(_ trial: TrialPlan, result: TrainingResult, folder: ResultsFolder) throws(FileError) -> TrialSummary {
    let dtype = trial.config.dtype
    let files = TrialFiles(id: trial.id)
    try folder.write(trial.reproducingConfig.serialized() + "\n", to: files.config)
    let perEpoch = max(result.iterationsPerEpoch, 1)
    let lossRows = result.losses.enumerated().map { (i, l) in ["\(i + 1)", "\(i / perEpoch + 1)", fmt(l, dtype: dtype)] }
    try folder.write(csv(["iteration", "epoch", "loss"], lossRows), to: files.loss)
    let accRows = result.epochs.map { e in ["\(e.epoch)", "\(e.iteration)", "\(e.trainAccuracy)", "\(e.valAccuracy)", "\(e.learningRate)"] }
    try folder.write(csv(["epoch", "iteration", "train_acc", "val_acc", "learning_rate"], accRows), to: files.accuracy)
    let s = summarize(trial, result: result)
    try folder.write(csv(s.header, [s.cells]), to: files.summary)
    return s
}

public func summarize(_ trial: TrialPlan, result: TrainingResult) -> TrialSummary {
    let dtype = trial.config.dtype
    let has = !result.epochs.isEmpty
    return TrialSummary(
        index: trial.index, id: trial.id, arm: trial.arm ?? "",
        parameters: trial.parameters.map { ($0.path, cellValue($0.value)) },
        status: result.status.rawValue,
        finalTrainAcc: has ? result.finalTrainAccuracy : nil, finalValAcc: has ? result.finalValAccuracy : nil,
        bestTrainAcc: has ? result.bestTrainAccuracy : nil, bestValAcc: has ? result.bestValAccuracy : nil,
        bestEpoch: has ? result.bestEpoch : nil, testAcc: result.testAccuracy,
        finalLoss: fmt(result.finalLoss, dtype: dtype), epochs: result.epochs.last?.epoch ?? 0,
        iterations: result.losses.count, seconds: result.seconds, message: result.message)
}

func cellValue(_ v: JSON) -> String {
    switch v {
    case .string(let s): return s
    case .number(let x): return JSON.format(x)
    default: return v.compact
    }
}

/// Label of a trial as a column of the wide tables: arm and swept values.
public func trialLabel(index: Int, arm: String, parameters: [(path: String, value: String)]) -> String {
    var parts = [String(format: "t%02d", index)]
    if !arm.isEmpty { parts.append(arm) }
    for (p, v) in parameters { parts.append("\(p.split(separator: ".").last ?? "")=\(v)") }
    return parts.joined(separator: " ")
}

/// Rebuilds the sweep-level files from the trial folders: summary.csv (one row per trial
/// in plan order, complete trials only) and the wide tables val_acc.csv, train_acc.csv
/// (epoch × trial) and loss.csv (iteration × trial).
@discardableResult
public func writeSweepTables(plan: ExperimentPlan, folder: ResultsFolder) throws(FileError) -> (complete: [TrialSummary], missing: [TrialPlan]) {
    var rows: [[String]] = []
    var header: [String] = []
    var complete: [TrialSummary] = []
    var missing: [TrialPlan] = []
    var valCols: [(String, [String: String])] = [], trainCols: [(String, [String: String])] = [], lossCols: [(String, [String])] = []
    var maxEpoch = 0
    for t in plan.trials {
        let files = TrialFiles(id: t.id)
        guard let s = TrialSummary.parse(folder.read(files.summary)) else { missing.append(t); continue }
        let summary = TrialSummary(
            index: t.index, id: t.id, arm: t.arm ?? "", parameters: t.parameters.map { ($0.path, cellValue($0.value)) },
            status: s["status"] ?? "", finalTrainAcc: Double(s["final_train_acc"] ?? ""), finalValAcc: Double(s["final_val_acc"] ?? ""),
            bestTrainAcc: Double(s["best_train_acc"] ?? ""), bestValAcc: Double(s["best_val_acc"] ?? ""), bestEpoch: Int(s["best_epoch"] ?? ""),
            testAcc: Double(s["test_acc"] ?? ""), finalLoss: s["final_loss"] ?? "", epochs: Int(s["epochs"] ?? "") ?? 0,
            iterations: Int(s["iterations"] ?? "") ?? 0, seconds: Double(s["seconds"] ?? "") ?? 0, message: s["message"] ?? "")
        complete.append(summary)
        header = summary.header
        rows.append(summary.cells)
        let label = trialLabel(index: t.index, arm: t.arm ?? "", parameters: summary.parameters)
        var val: [String: String] = [:], train: [String: String] = [:]
        if let text = folder.read(files.accuracy) {
            for line in text.split(separator: "\n").dropFirst() {
                let c = parseCSVLine(String(line)); guard c.count >= 4 else { continue }
                val[c[0]] = c[3]; train[c[0]] = c[2]; maxEpoch = max(maxEpoch, Int(c[0]) ?? 0)
            }
        }
        valCols.append((label, val)); trainCols.append((label, train))
        var losses: [String] = []
        if let text = folder.read(files.loss) {
            for line in text.split(separator: "\n").dropFirst() { let c = parseCSVLine(String(line)); if c.count >= 3 { losses.append(c[2]) } }
        }
        lossCols.append((label, losses))
    }
    if header.isEmpty { header = ["index", "id", "arm"] + plan.sweptPaths + TrialSummary.fixedColumns }
    try folder.write(csv(header, rows), to: "summary.csv")
    func wide(_ cols: [(String, [String: String])]) -> String {
        csv(["epoch"] + cols.map(\.0), (0...max(maxEpoch, 0)).map { e in ["\(e)"] + cols.map { $0.1["\(e)"] ?? "" } })
    }
    try folder.write(wide(valCols), to: "val_acc.csv")
    try folder.write(wide(trainCols), to: "train_acc.csv")
    let maxIt = lossCols.map(\.1.count).max() ?? 0
    try folder.write(csv(["iteration"] + lossCols.map(\.0), (0..<maxIt).map { i in ["\(i + 1)"] + lossCols.map { i < $0.1.count ? $0.1[i] : "" } }),
                     to: "loss.csv")
    return (complete, missing)
}
