import Foundation

/// Terminal output of a run. On a terminal a sweep gets a live block (done/running/total,
/// elapsed, ETA, best so far, one line per running trial) redrawn in place; otherwise
/// plain lines, one per finished trial. A single trial prints one line per epoch.
public final class ProgressDisplay: @unchecked Sendable {
    public enum Verbosity: Sendable { case quiet, normal, verbose }
    private let lock = NSLock()
    private let total: Int
    private let single: Bool
    private let verbosity: Verbosity
    private let live: Bool
    private let start = Date()
    /// Trials whose last event was an end (a trial the scheduler sends on starts again).
    private var ended: Set<Int> = [], skippedSet: Set<Int> = []
    private var done: Int { ended.count }
    private var skipped: Int { skippedSet.count }
    private var failed = 0, diverged = 0
    private var running: [Int: (label: String, status: String)] = [:]
    private var best: (acc: Double, label: String)? = nil
    private var drawnLines = 0
    private var lastDraw = Date.distantPast
    private let out: (String) -> Void

    public init(plan: ExperimentPlan, verbosity: Verbosity, isTerminal: Bool = isatty(STDOUT_FILENO) != 0,
                out: @escaping (String) -> Void = { FileHandle.standardOutput.write(Data(($0 + "\n").utf8)) }) {
        total = plan.trials.count
        single = plan.trials.count == 1
        self.verbosity = verbosity
        live = isTerminal && !single && verbosity != .quiet
        self.out = out
    }

    static func label(_ t: TrialPlan) -> String { t.label }

    public func handle(_ e: RunEvent) {
        lock.lock(); defer { lock.unlock() }
        switch e {
        case .skipped(let t):
            skippedSet.insert(t.index); ended.insert(t.index)
        case .started(let t):
            ended.remove(t.index); skippedSet.remove(t.index)
            running[t.index] = (Self.label(t), "starting")
            if !live && verbosity == .verbose && !single { emit("start  \(Self.label(t))") }
        case let .progress(t, ev):
            switch ev {
            case let .iteration(it, total, loss):
                if single && verbosity == .verbose && (it % 50 == 0 || it == 1) {
                    emit("(Iteration \(it) / \(total)) loss: \(String(format: "%.6f", loss))")
                }
                if live { running[t.index]?.status = "iteration \(it)/\(total)  loss \(String(format: "%.4f", loss))" }
            case let .epoch(r, total):
                if single && verbosity != .quiet {
                    emit("(Epoch \(r.epoch) / \(total)) train acc: \(String(format: "%.3f", r.trainAccuracy)); val_acc: \(String(format: "%.3f", r.valAccuracy)); lr: \(String(format: "%g", r.learningRate))")
                } else if !live && verbosity == .verbose {
                    emit("       \(Self.label(t))  epoch \(r.epoch)/\(total)  train \(String(format: "%.3f", r.trainAccuracy))  val \(String(format: "%.3f", r.valAccuracy))")
                }
                running[t.index]?.status = "epoch \(r.epoch)/\(total)  val \(String(format: "%.3f", r.valAccuracy))"
            }
        case let .finished(t, s):
            running[t.index] = nil
            ended.insert(t.index)
            if s.status == .failed { failed += 1 }
            if s.status == .diverged { diverged += 1 }
            if let v = s.bestValAcc, v > (best?.acc ?? -1) { best = (v, Self.label(t)) }
            if !live && verbosity != .quiet && !single {
                let acc = s.bestValAcc.map { String(format: "best val %.3f", $0) } ?? "no accuracy"
                let test = s.testAcc.map { String(format: "  test %.3f", $0) } ?? ""
                emit("[\(String(done).leftPadded(to: String(total).count, with: " "))/\(total)] \(Self.label(t)): \(s.status.rawValue)\(s.status == .stopped ? " at epoch \(s.epochs)" : "")  \(acc)\(test)  (\(String(format: "%.1f", s.seconds)) s)" + (s.message.isEmpty ? "" : "  \(s.message)"))
            }
            if single && verbosity != .quiet && !s.message.isEmpty { emit("\(s.status.rawValue): \(s.message)") }
        }
        if live { redraw(force: { if case .finished = e { return true }; return false }()) }
    }

    private func emit(_ s: String) { out(s) }

    private func redraw(force: Bool) {
        let now = Date()
        guard force || now.timeIntervalSince(lastDraw) > 0.25 else { return }
        lastDraw = now
        let elapsed = now.timeIntervalSince(start)
        let ranHere = done - skipped
        var eta = "--:--"
        if ranHere > 0, done < total { eta = clock(elapsed / Double(ranHere) * Double(total - done)) }
        var lines = ["trials \(done)/\(total) done · \(running.count) running" + (failed > 0 ? " · \(failed) failed" : "") + (diverged > 0 ? " · \(diverged) diverged" : "") + (skipped > 0 ? " · \(skipped) already done" : "") + " · \(clock(elapsed)) elapsed · ETA \(eta)"]
        if let best { lines.append("best val_acc \(String(format: "%.3f", best.acc))  \(best.label)") }
        for (_, r) in running.sorted(by: { $0.key < $1.key }) { lines.append("  \(r.label)  \(r.status)") }
        var s = ""
        if drawnLines > 0 { s += "\u{1B}[\(drawnLines)F" }
        s += lines.map { "\u{1B}[2K" + $0 }.joined(separator: "\n") + "\n"
        s += "\u{1B}[J"
        drawnLines = lines.count
        FileHandle.standardOutput.write(Data(s.utf8))
    }

    func clock(_ t: Double) -> String {
        let s = Int(t.rounded())
        return s >= 3600 ? String(format: "%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60) : String(format: "%02d:%02d", s / 60, s % 60)
    }
}

/// The best trials by best validation accuracy, as an aligned text table.
public func bestTrialsTable(_ summaries: [TrialSummary], limit: Int = 5) -> String {
    let ranked = summaries.filter { $0.bestValAcc != nil }.sorted { ($0.bestValAcc ?? 0, -$0.index) > ($1.bestValAcc ?? 0, -$1.index) }.prefix(limit)
    guard !ranked.isEmpty else { return "" }
    var rows = [["trial", "best val", "test", "final loss", "status"]]
    for s in ranked {
        rows.append([s.label.isEmpty ? trialLabel(index: s.index, arm: s.arm, parameters: s.parameters) : s.label,
                     s.bestValAcc.map { String(format: "%.3f", $0) } ?? "", s.testAcc.map { String(format: "%.3f", $0) } ?? "",
                     s.finalLoss, s.status.rawValue])
    }
    let widths = (0..<rows[0].count).map { c in rows.map { $0[c].count }.max() ?? 0 }
    return rows.map { r in r.enumerated().map { $1.padding(toLength: widths[$0], withPad: " ", startingAt: 0) }.joined(separator: "  ") }.joined(separator: "\n")
}
