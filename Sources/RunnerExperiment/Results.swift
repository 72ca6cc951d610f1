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

/// The files of one trial, relative to the results folder: `trials/<folder>/…` (see
/// `TrialDirectories` for which folder a trial uses).
public struct TrialFiles: Sendable {
    public let directory: String
    public init(folder: String) { directory = "trials/\(folder)" }
    public var config: String { directory + "/config.json" }
    public var loss: String { directory + "/loss.csv" }
    public var accuracy: String { directory + "/accuracy.csv" }
    public var summary: String { directory + "/summary.csv" }
    /// The trial's record (see `TrialRecord`), written last: its presence marks the trial as complete.
    public var record: String { directory + "/record.json" }
    /// The training state at the last checkpoint (see `CheckpointFile`); removed when the
    /// trial finishes, kept when the sweep's scheduler stopped it (a larger budget continues it).
    public var checkpoint: String { directory + "/checkpoint.bin" }
    /// The saved model of a finished trial (see `SavedModel`).
    public var model: String { directory + "/" + SavedModel.weightsFile }
    public var modelDescription: String { directory + "/" + SavedModel.descriptionFile }
    public var confusionVal: String { directory + "/confusion_val.csv" }
    public var confusionTest: String { directory + "/confusion_test.csv" }
    public var perClass: String { directory + "/per_class.csv" }
    public var confusionFigure: String { directory + "/confusion.svg" }
    /// The files the runner writes in a trial folder (the only ones it ever deletes there).
    public static let runnerFiles = ["record.json", "config.json", "loss.csv", "accuracy.csv", "summary.csv",
                                     SavedModel.weightsFile, SavedModel.descriptionFile,
                                     "confusion_val.csv", "confusion_test.csv", "per_class.csv", "confusion.svg", "checkpoint.bin"]
}

/// One row of summary.csv (per trial and for the whole sweep).
public struct TrialSummary: Sendable {
    public var index: Int
    public var id: String
    public var arm: String
    public var parameters: [(path: String, value: String)]
    public var status: TrialStatus
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
    /// The trial's label (see `TrialNames`; not a column).
    public var label: String = ""

    public static let fixedColumns = ["status", "final_train_acc", "final_val_acc", "best_train_acc", "best_val_acc", "best_epoch",
                                      "test_acc", "final_loss", "epochs", "iterations", "seconds", "message"]

    public var header: [String] { ["index", "id", "arm"] + parameters.map(\.path) + TrialSummary.fixedColumns }
    public var cells: [String] {
        ["\(index)", id, arm] + parameters.map(\.value) + [
            status.rawValue, fmtAcc(finalTrainAcc), fmtAcc(finalValAcc), fmtAcc(bestTrainAcc), fmtAcc(bestValAcc),
            bestEpoch.map(String.init) ?? "", fmtAcc(testAcc), finalLoss, "\(epochs)", "\(iterations)",
            String(format: "%.2f", seconds), message,
        ]
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

/// Writes a trial's record and its exports (see `TrialRecord`) into `files`; returns its summary row.
public func writeTrial(_ trial: TrialPlan, result: TrainingResult, folder: ResultsFolder, files: TrialFiles) throws(FileError) -> TrialSummary {
    try writeTrial(trial, outcome: TrialOutcome(result: result), folder: folder, files: files)
}

/// Writes a trial's saved model (when it has one), exports and record into `files`; returns its summary row.
public func writeTrial(_ trial: TrialPlan, outcome: TrialOutcome, folder: ResultsFolder, files: TrialFiles) throws(FileError) -> TrialSummary {
    let record = TrialRecord(trial: trial, result: outcome.result, evaluation: outcome.evaluation)
    try folder.write(record, config: trial.reproducingConfig, model: outcome.model, files: files)
    return record.summary
}

/// The summary row of `trial` trained to `result` (without writing anything).
public func summarize(_ trial: TrialPlan, result: TrainingResult) -> TrialSummary {
    TrialRecord(trial: trial, result: result).summary
}

func cellValue(_ v: JSON) -> String {
    switch v {
    case .string(let s): return s
    case .number(let x): return JSON.format(x)
    default: return v.compact
    }
}

/// Label of a trial without its plan (see `TrialNames` for the labels of a plan's trials):
/// index, arm and swept values.
public func trialLabel(index: Int, arm: String, parameters: [(path: String, value: String)]) -> String {
    var parts = [String(format: "t%02d", index)]
    if !arm.isEmpty { parts.append(arm) }
    for (p, v) in parameters { parts.append("\(p.split(separator: ".").last ?? "")=\(v)") }
    return parts.joined(separator: " ")
}

/// Rebuilds the sweep-level exports from the trials' records: summary.csv (one row per
/// trial with a record, in plan order) and the wide tables val_acc.csv, train_acc.csv
/// (epoch × trial) and loss.csv (iteration × trial).
@discardableResult
public func writeSweepTables(plan: ExperimentPlan, folder: ResultsFolder) throws(FileError) -> (complete: [TrialSummary], missing: [TrialPlan]) {
    let (records, missing) = folder.records(of: plan)
    let complete = records.map(\.summary)
    let header = complete.first?.header ?? ["index", "id", "arm"] + plan.sweptPaths + TrialSummary.fixedColumns
    try folder.write(csv(header, complete.map(\.cells)), to: "summary.csv")
    let maxEpoch = records.flatMap { $0.epochs.map(\.epoch) }.max() ?? 0
    func column(_ r: TrialRecord, _ value: (EpochRecord) -> Double) -> (String, [String: String]) {
        (r.label, Dictionary(r.epochs.map { ("\($0.epoch)", "\(value($0))") }, uniquingKeysWith: { _, b in b }))
    }
    let valCols = records.map { column($0, \.valAccuracy) }, trainCols = records.map { column($0, \.trainAccuracy) }
    let lossCols = records.map { r in (r.label, r.losses.map { fmt($0, dtype: r.dtype) }) }
    func wide(_ cols: [(String, [String: String])]) -> String {
        csv(["epoch"] + cols.map(\.0), (0...max(maxEpoch, 0)).map { e in ["\(e)"] + cols.map { $0.1["\(e)"] ?? "" } })
    }
    try folder.write(wide(valCols), to: "val_acc.csv")
    try folder.write(wide(trainCols), to: "train_acc.csv")
    let maxIt = lossCols.map(\.1.count).max() ?? 0
    try folder.write(csv(["iteration"] + lossCols.map(\.0), (0..<maxIt).map { i in ["\(i + 1)"] + lossCols.map { i < $0.1.count ? $0.1[i] : "" } }),
                     to: "loss.csv")
    if plan.hasGroups {
        let (aggregate, paired) = aggregateTables(plan: plan, records: records)
        try folder.write(aggregate, to: "aggregate.csv")
        if let paired { try folder.write(paired, to: "paired.csv") }
    }
    return (complete, missing)
}
