import Foundation

/// Everything a finished (or failed, or diverged) trial leaves behind, as one typed value:
/// where it sits in the sweep, how it ended, and its full histories. It is the results
/// store: `trials/<id>/record.json` is the only thing the runner reads back (to resume, to
/// merge, to draw); `config.json`, the trial's CSV files, the sweep's `summary.csv` and wide
/// tables, the SVG figures and `plots.gp` are all exports of records and the plan.
///
/// `record.json` is written last, atomically: its presence marks the trial complete.
public struct TrialRecord: Sendable {
    public var index: Int
    public var id: String
    public var arm: String?
    /// The swept values of the trial, in the summary's column order.
    public var parameters: [(path: String, value: JSON)]
    public var status: TrialStatus
    public var message: String
    public var seconds: Double
    /// "float32" or "float64": how the numbers are printed in the CSV exports.
    public var dtype: String
    public var iterationsPerEpoch: Int
    /// Training loss of every iteration.
    public var losses: [Double]
    /// Learning rate of every iteration (empty in records written before it was kept).
    public var learningRates: [Double]
    /// The epoch at which early stopping ended training (nil: it did not).
    public var stoppedEpoch: Int?
    /// Accuracy checks: epoch 0 (after the first iteration) and every epoch end.
    public var epochs: [EpochRecord]
    /// Validation accuracy of the best parameters (those restored at the end) and its epoch.
    public var bestValAccuracy: Double?
    public var bestEpoch: Int?
    public var testAccuracy: Double?
    /// Per-class results of the best parameters (finished trials; see `TrialEvaluation`).
    public var evaluation: TrialEvaluation?
    /// The trial's label (see `TrialNames`): given by the plan when records are read through
    /// `records(of:)` or made from a `TrialPlan`; otherwise index, arm and swept values.
    public var label: String

    public init(index: Int, id: String, arm: String?, parameters: [(path: String, value: JSON)], status: TrialStatus,
                message: String = "", seconds: Double = 0, dtype: String = "float32", iterationsPerEpoch: Int = 0,
                losses: [Double] = [], learningRates: [Double] = [], epochs: [EpochRecord] = [], bestValAccuracy: Double? = nil,
                bestEpoch: Int? = nil, testAccuracy: Double? = nil, stoppedEpoch: Int? = nil) {
        self.index = index; self.id = id; self.arm = arm; self.parameters = parameters; self.status = status
        self.message = message; self.seconds = seconds; self.dtype = dtype; self.iterationsPerEpoch = iterationsPerEpoch
        self.losses = losses; self.epochs = epochs; self.bestValAccuracy = bestValAccuracy; self.bestEpoch = bestEpoch
        self.testAccuracy = testAccuracy; self.learningRates = learningRates; self.stoppedEpoch = stoppedEpoch
        label = trialLabel(index: index, arm: arm ?? "", parameters: parameters.map { ($0.path, cellValue($0.value)) })
    }

    /// The record of `trial` trained to `result`.
    public init(trial: TrialPlan, result: TrainingResult, evaluation: TrialEvaluation? = nil) {
        let has = !result.epochs.isEmpty
        self.init(index: trial.index, id: trial.id, arm: trial.arm, parameters: trial.parameters, status: result.status,
                  message: result.message, seconds: result.seconds, dtype: trial.config.dtype,
                  iterationsPerEpoch: result.iterationsPerEpoch, losses: result.losses, learningRates: result.learningRates,
                  epochs: result.epochs, bestValAccuracy: has ? result.bestValAccuracy : nil, bestEpoch: has ? result.bestEpoch : nil,
                  testAccuracy: result.testAccuracy, stoppedEpoch: result.stoppedEpoch)
        self.evaluation = evaluation
        label = trial.label
    }

    /// Mean of the last 100 iteration losses (SPEC §7), nan without any.
    public var finalLoss: Double {
        let tail = losses.suffix(100)
        return tail.isEmpty ? .nan : tail.reduce(0, +) / Double(tail.count)
    }

    /// Whether the trial's results count as done (a rerun skips it): finished or diverged.
    public var isComplete: Bool { status == .finished || status == .diverged }

    /// The row of summary.csv.
    public var summary: TrialSummary {
        let has = !epochs.isEmpty
        return TrialSummary(
            index: index, id: id, arm: arm ?? "", parameters: parameters.map { ($0.path, cellValue($0.value)) }, status: status,
            finalTrainAcc: has ? epochs.last!.trainAccuracy : nil, finalValAcc: has ? epochs.last!.valAccuracy : nil,
            bestTrainAcc: has ? epochs.map(\.trainAccuracy).max() : nil, bestValAcc: bestValAccuracy, bestEpoch: bestEpoch,
            testAcc: testAccuracy, finalLoss: fmt(finalLoss, dtype: dtype), epochs: epochs.last?.epoch ?? 0,
            iterations: losses.count, seconds: seconds, message: message, label: label)
    }

    // MARK: exports

    /// `trials/<id>/loss.csv`: iteration, epoch, loss, learning_rate (the rate of that
    /// iteration's update; empty for records that predate it).
    public var lossCSV: String {
        let perEpoch = max(iterationsPerEpoch, 1)
        return csv(["iteration", "epoch", "loss", "learning_rate"], losses.enumerated().map { (i, l) in
            ["\(i + 1)", "\(i / perEpoch + 1)", fmt(l, dtype: dtype), i < learningRates.count ? "\(learningRates[i])" : ""]
        })
    }

    /// `trials/<id>/accuracy.csv`: epoch, iteration, train_acc, val_acc, learning_rate.
    public var accuracyCSV: String {
        csv(["epoch", "iteration", "train_acc", "val_acc", "learning_rate"],
            epochs.map { e in ["\(e.epoch)", "\(e.iteration)", "\(e.trainAccuracy)", "\(e.valAccuracy)", "\(e.learningRate)"] })
    }

    // MARK: record.json

    /// Numbers that JSON cannot hold (nan, ±inf) are written as strings.
    static func number(_ x: Double) -> JSON { x.isFinite ? .number(x) : .string(x.isNaN ? "nan" : x > 0 ? "inf" : "-inf") }
    static func double(_ j: JSON?) -> Double? {
        switch j {
        case .number(let x)?: return x
        case .string("nan")?: return .nan
        case .string("inf")?: return .infinity
        case .string("-inf")?: return -.infinity
        default: return nil
        }
    }

    public var json: JSON {
        func opt(_ x: Double?) -> JSON { x.map(TrialRecord.number) ?? .null }
        let fields: [(key: String, value: JSON)] = [
            ("format", .string("runner trial record 1")),
            ("index", .number(Double(index))), ("id", .string(id)), ("arm", arm.map { .string($0) } ?? .null),
            ("parameters", .object(parameters.map { ($0.path, $0.value) })),
            ("status", .string(status.rawValue)), ("message", .string(message)), ("seconds", .number(seconds)),
            ("dtype", .string(dtype)), ("iterations_per_epoch", .number(Double(iterationsPerEpoch))),
            ("best_val_acc", opt(bestValAccuracy)), ("best_epoch", bestEpoch.map { .number(Double($0)) } ?? .null),
            ("test_acc", opt(testAccuracy)),
            ("epochs", .array(epochs.map { e in
                .array([.number(Double(e.epoch)), .number(Double(e.iteration)), TrialRecord.number(e.trainAccuracy),
                        TrialRecord.number(e.valAccuracy), TrialRecord.number(e.learningRate)])
            })),
            ("losses", .array(losses.map(TrialRecord.number))),
            ("learning_rates", .array(learningRates.map(TrialRecord.number))),
            ("stopped_epoch", stoppedEpoch.map { .number(Double($0)) } ?? .null),
        ]
        guard let evaluation else { return .object(fields) }
        return .object(fields + [("per_class", evaluation.json)])
    }

    /// Reads a record written by `json`; nil when it is not one (a damaged or foreign file
    /// counts as no results, so the trial runs again).
    public init?(json j: JSON) {
        guard case .string("runner trial record 1")? = j["format"],
              case .number(let index)? = j["index"], case .string(let id)? = j["id"],
              case .string(let s)? = j["status"], let status = TrialStatus(rawValue: s),
              case .object(let params)? = j["parameters"], case .array(let eps)? = j["epochs"], case .array(let ls)? = j["losses"]
        else { return nil }
        var epochs: [EpochRecord] = []
        for e in eps {
            guard case .array(let f) = e, f.count == 5, let ep = TrialRecord.double(f[0]), let it = TrialRecord.double(f[1]),
                  let tr = TrialRecord.double(f[2]), let va = TrialRecord.double(f[3]), let lr = TrialRecord.double(f[4]) else { return nil }
            epochs.append(EpochRecord(epoch: Int(ep), iteration: Int(it), trainAccuracy: tr, valAccuracy: va, learningRate: lr))
        }
        var losses: [Double] = []
        losses.reserveCapacity(ls.count)
        for l in ls { guard let x = TrialRecord.double(l) else { return nil }; losses.append(x) }
        var rates: [Double] = []
        if case .array(let rs)? = j["learning_rates"] {
            rates.reserveCapacity(rs.count)
            for r in rs { guard let x = TrialRecord.double(r) else { return nil }; rates.append(x) }
        }
        var arm: String? = nil, message = "", dtype = "float32"
        if case .string(let a)? = j["arm"] { arm = a }
        if case .string(let m)? = j["message"] { message = m }
        if case .string(let d)? = j["dtype"] { dtype = d }
        self.init(index: Int(index), id: id, arm: arm, parameters: params.map { ($0.key, $0.value) }, status: status,
                  message: message, seconds: TrialRecord.double(j["seconds"]) ?? 0, dtype: dtype,
                  iterationsPerEpoch: Int(TrialRecord.double(j["iterations_per_epoch"]) ?? 0), losses: losses, learningRates: rates,
                  epochs: epochs, bestValAccuracy: TrialRecord.double(j["best_val_acc"]),
                  bestEpoch: TrialRecord.double(j["best_epoch"]).map { Int($0) }, testAccuracy: TrialRecord.double(j["test_acc"]),
                  stoppedEpoch: TrialRecord.double(j["stopped_epoch"]).map { Int($0) })
        evaluation = TrialEvaluation(json: j["per_class"])
    }
}

extension ResultsFolder {
    /// The record in the trial folder `files`, if it has one that reads back.
    public func record(_ files: TrialFiles) -> TrialRecord? {
        guard let text = read(files.record), let j = try? JSON.parse(text) else { return nil }
        return TrialRecord(json: j)
    }

    /// Writes a trial's exports, then its record (the completion mark), each atomically,
    /// into the trial folder `files`. `config` is the trial's reproducing config (config.json).
    /// `model` (a finished trial's best parameters) is written before the record too.
    public func write(_ r: TrialRecord, config: JSON?, model: SavedModel? = nil, files: TrialFiles) throws(FileError) {
        if let config { try write(config.serialized() + "\n", to: files.config) }
        try write(r.lossCSV, to: files.loss)
        try write(r.accuracyCSV, to: files.accuracy)
        try write(csv(r.summary.header, [r.summary.cells]), to: files.summary)
        if let model {
            try write(model.safetensors, to: files.model)
            try write(model.description.serialized() + "\n", to: files.modelDescription)
        }
        if let e = r.evaluation {
            if let m = e.val { try write(m.csv(classNames: e.classNames), to: files.confusionVal) }
            if let m = e.test { try write(m.csv(classNames: e.classNames), to: files.confusionTest) }
            try write(e.perClassCSV, to: files.perClass)
            try write(e.figure(title: "\(r.label): confusion matrices of the best parameters"), to: files.confusionFigure)
        }
        try write(r.json.compact + "\n", to: files.record)
    }

    /// Records of the plan's trials that have one, in plan order; the others are missing.
    public func records(of plan: ExperimentPlan) -> (records: [TrialRecord], missing: [TrialPlan]) {
        var records: [TrialRecord] = [], missing: [TrialPlan] = []
        let dirs = TrialDirectories(plan, folder: self)
        for t in plan.trials {
            if var r = record(dirs[t]) {
                // The plan is authoritative for where the trial sits in the sweep and its label.
                r.index = t.index; r.arm = t.arm; r.parameters = t.parameters; r.label = t.label
                records.append(r)
            } else { missing.append(t) }
        }
        return (records, missing)
    }
}
