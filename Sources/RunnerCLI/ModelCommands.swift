import Foundation
import Runner

// `runner eval` and `runner predict`: a finished trial's saved model (see `SavedModel`).
// TRIAL_DIR, FILE and OUT come from the command line and are checked like any untrusted path:
// the output never replaces the model, a file of the trial folder, the input, a folder or a link.

extension CLI {
    /// The saved model of the trial folder `dir` (as given on the command line).
    func loadModel(_ dir: String) throws -> LoadedModel {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: context.resolve(dir), isDirectory: &isDir), isDir.boolValue else {
            throw UsageError("\(dir) is not a folder (expected a trial folder such as results/<name>/trials/<folder>)")
        }
        return try LoadedModel(directory: context.resolve(dir), shown: dir)
    }

    public func evaluate(_ o: Invocation) throws -> Int32 {
        guard let dir = o.positional.first, o.positional.count == 1 else { throw UsageError("usage: runner eval TRIAL_DIR [--split val|test] [--data DIR]") }
        let split = o.value(.split) ?? "val"
        guard split == "val" || split == "test" else { throw UsageError("--split needs val or test, got \(displayString(split))") }
        let model = try loadModel(dir)
        // The trial's data, read as its config describes (the data source registry), from the
        // folder named there (relative to the working directory, as for `run`) or --data.
        let data = try model.config.loadData(directoryOverride: context.resolve(o.value(.data) ?? model.config.dataDir))
        guard data.sampleShape == model.inputShape else {
            throw UsageError("the data has rows of shape \(data.sampleShape) but the model in \(dir) takes \(model.inputShape)")
        }
        let rows = split == "val" ? data.val : data.test
        guard rows.count > 0 else { throw UsageError("the trial's data has no \(split) rows (its config sets data.num_\(split) to 0)") }
        let m = model.confusion(on: rows)
        say("accuracy \(m.accuracy)")
        say("")
        say(columns([["class", "accuracy", "correct", "rows"]] + model.classNames.indices.map { c in
            [model.classNames[c], m.classAccuracy(c).map { String(format: "%.4f", $0) } ?? "-", "\(m.counts[c][c])", "\(m.classRows[c])"]
        }))
        say("")
        say("confusion matrix on \(split) (rows: true class, columns: predicted class)")
        say(columns([["true\\predicted"] + model.classNames.indices.map(String.init)] + model.classNames.indices.map { c in
            ["\(c) \(model.classNames[c])"] + m.counts[c].map(String.init)
        }, rightAligned: true))
        return 0
    }

    public func predict(_ o: Invocation) throws -> Int32 {
        guard o.positional.count == 2 else { throw UsageError("usage: runner predict TRIAL_DIR FILE [--output OUT.csv]") }
        let (dir, file) = (o.positional[0], o.positional[1])
        let model = try loadModel(dir)
        guard model.inputShape == CIFAR10.imageShape else {
            throw UsageError("predict reads CIFAR-layout files (3×32×32 images), but the model in \(dir) takes inputs of shape \(model.inputShape)")
        }
        let output = try o.value(.output).map { out in try checkedOutput(out, trialDirectory: dir, input: file) }
        let records = try CIFAR10.readRecords(path: context.resolve(file))
        let rows = records.labels.count
        let (predicted, probabilities) = model.classify(model.prepare(raw: records.pixels, rows: rows), rows: rows, probabilities: true)
        let c = model.classNames.count
        var text = (["row", "predicted"] + (0..<c).map { "p_\($0)" }).joined(separator: ",") + "\n"
        text.reserveCapacity(rows * (8 + 12 * c))
        for r in 0..<rows {
            text += "\(r),\(predicted[r])"
            for k in 0..<c { text += "," + probabilityText(probabilities[r * c + k], dtype: model.dtype) }
            text += "\n"
        }
        guard let (out, path) = output else {
            console.out(String(text.dropLast()))
            return 0
        }
        try writeAtomically(text, to: path)
        say("wrote \(rows) prediction\(rows == 1 ? "" : "s") to \(out)")
        return 0
    }

    /// `out` (the --output value) as the path to write, after refusing what it must not
    /// replace: a path that is not a .csv file name or holds a control character, a missing
    /// folder, a folder, a symbolic link, the input FILE, anything in the trial folder, and a
    /// file beside another trial's record or an experiment's experiment.json.
    func checkedOutput(_ out: String, trialDirectory: String, input: String) throws(UsageError) -> (String, String) {
        guard !out.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) else {
            throw UsageError("--output \(displayString(out)) contains a control character")
        }
        guard out.lowercased().hasSuffix(".csv"), (out as NSString).lastPathComponent.count > 4 else {
            throw UsageError("--output must name a .csv file, got \(out)")
        }
        let path = context.resolve(out)
        let folder = (path as NSString).deletingLastPathComponent.isEmpty ? "." : (path as NSString).deletingLastPathComponent
        var st = stat()
        guard stat(folder, &st) == 0, st.st_mode & S_IFMT == S_IFDIR else {
            throw UsageError("--output \(out): the folder \(folder) does not exist")
        }
        if lstat(path, &st) == 0 {
            switch st.st_mode & S_IFMT {
            case S_IFLNK: throw UsageError("--output \(out) is a symbolic link; refusing to replace it")
            case S_IFREG: break
            default: throw UsageError("--output \(out) exists and is not a file")
            }
        }
        if sameFile(path, context.resolve(input)) { throw UsageError("--output \(out) is the input file \(input)") }
        let trialReal = URL(fileURLWithPath: context.resolve(trialDirectory)).resolvingSymlinksInPath().path
        let folderReal = URL(fileURLWithPath: folder).resolvingSymlinksInPath().path
        if folderReal == trialReal || folderReal.hasPrefix(trialReal + "/") {
            throw UsageError("--output \(out) is inside the trial folder \(trialDirectory), beside its saved model and results; write it elsewhere")
        }
        // Nor into another trial's folder or an experiment's results folder (their CSVs are results).
        if let mark = ["record.json", SavedModel.descriptionFile, "experiment.json"].first(where: { FileManager.default.fileExists(atPath: folder + "/" + $0) }) {
            throw UsageError("--output \(out) is in a results folder of the runner (\(folder) holds \(mark)); write it elsewhere")
        }
        return (out, path)
    }
}

/// Whether `a` and `b` are the same existing file (same device and inode).
private func sameFile(_ a: String, _ b: String) -> Bool {
    var x = stat(), y = stat()
    return stat(a, &x) == 0 && stat(b, &y) == 0 && x.st_dev == y.st_dev && x.st_ino == y.st_ino
}

/// A probability as the model's dtype prints it (shortest round-trip form).
private func probabilityText(_ p: Double, dtype: String) -> String { dtype == "float64" ? "\(p)" : "\(Float(p))" }

/// Rows of cells as aligned columns (two spaces apart); the first column left-aligned, the
/// others left- or right-aligned.
private func columns(_ rows: [[String]], rightAligned: Bool = false) -> String {
    let widths = (0..<(rows.map(\.count).max() ?? 0)).map { c in rows.map { c < $0.count ? $0[c].count : 0 }.max() ?? 0 }
    return rows.map { r in
        r.enumerated().map { c, cell in
            let pad = String(repeating: " ", count: widths[c] - cell.count)
            return c > 0 && rightAligned ? pad + cell : cell + pad
        }.joined(separator: "  ").trimmingCharacters(in: .whitespaces)
    }.joined(separator: "\n")
}
