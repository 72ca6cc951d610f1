import Foundation

/// Counts of (true class, predicted class) over the rows of a split: `counts[true][predicted]`.
/// Row `c` sums to the number of rows of class `c`; the diagonal holds the correct ones.
public struct ConfusionMatrix: Equatable, Sendable {
    public var counts: [[Int]]

    public init(counts: [[Int]]) { self.counts = counts }

    /// Tallies `predicted` against `labels` (labels and predictions outside 0..<classes are
    /// not counted; the data readers and argmax never produce them).
    public init(labels: [Int32], predicted: [Int32], classes: Int) {
        counts = Array(repeating: Array(repeating: 0, count: classes), count: classes)
        for (t, p) in zip(labels, predicted) where t >= 0 && Int(t) < classes && p >= 0 && Int(p) < classes {
            counts[Int(t)][Int(p)] += 1
        }
    }

    public var classes: Int { counts.count }
    /// Rows of each true class.
    public var classRows: [Int] { counts.map { $0.reduce(0, +) } }
    public var rows: Int { classRows.reduce(0, +) }
    public var correct: Int { counts.indices.reduce(0) { $0 + counts[$1][$1] } }
    /// Fraction of rows classified correctly (nan without rows), as `Solver.accuracy` computes it.
    public var accuracy: Double { rows == 0 ? .nan : Double(correct) / Double(rows) }
    /// Fraction of class `c`'s rows classified as `c`; nil when the split has none.
    public func classAccuracy(_ c: Int) -> Double? {
        let n = counts[c].reduce(0, +)
        return n == 0 ? nil : Double(counts[c][c]) / Double(n)
    }

    /// `confusion_<split>.csv`: header `true\predicted` and the class names, then one row per
    /// true class: its name and the count predicted as each class.
    public func csv(classNames: [String]) -> String {
        RunnerExperiment.csv(["true\\predicted"] + classNames, counts.enumerated().map { [classNames[$0.offset]] + $0.element.map(String.init) })
    }

    var json: JSON { .array(counts.map { .array($0.map { .number(Double($0)) }) }) }

    /// A square matrix of non-negative integers written by `json`; nil otherwise.
    init?(json: JSON?) {
        guard case .array(let rows)? = json else { return nil }
        var counts: [[Int]] = []
        for r in rows {
            guard case .array(let cells) = r, cells.count == rows.count else { return nil }
            var row: [Int] = []
            for c in cells { guard case .number(let x) = c, x >= 0, x == x.rounded(), x < 1e15 else { return nil }; row.append(Int(x)) }
            counts.append(row)
        }
        self.counts = counts
    }
}

/// Predicted class (and, when asked, the softmax probabilities) of each of `rows` rows of `x`
/// (row-major Float, `rows × inputShape`), in test mode, in batches of `batch` rows in order:
/// the batches `Solver.accuracy` uses for a whole split, so the same predictions.
/// Cost: one forward pass over the rows (plus `rows × classes` exponentials for probabilities).
public func classifyRows<T: Real>(_ network: Network<T>, x: [Float], rows: Int, batch: Int,
                                  probabilities: Bool = false) -> (predicted: [Int32], probabilities: [Double]) {
    let shape = network.inputShape, rowSize = shape.reduce(1, *), classes = network.numClasses
    precondition(x.count == rows * rowSize, "classifyRows: \(x.count) values for \(rows) rows of \(shape)")
    var predicted = [Int32](repeating: 0, count: rows)
    var probs = [Double](repeating: 0, count: probabilities ? rows * classes : 0)
    let converted = Tensor<T>(shape: [0])
    let step = max(batch, 1)
    x.withUnsafeBufferPointer { xs in
        var start = 0
        while start < rows {
            let n = min(step, rows - start)
            let first = xs.baseAddress! + start * rowSize
            let input: Tensor<T>
            if T.self == Float.self {
                input = Tensor<T>(viewing: UnsafeRawPointer(first).assumingMemoryBound(to: T.self), shape: [n] + shape)
            } else {
                converted.resize([n] + shape)
                for j in 0..<(n * rowSize) { converted.data[j] = T(first[j]) }
                input = converted
            }
            let scores = network.forward(input, mode: .test)
            predicted.withUnsafeMutableBufferPointer { argmaxRows(rows: n, cols: classes, x: scores.data, out: $0.baseAddress! + start) }
            if probabilities {
                for r in 0..<n {
                    let s = scores.data + r * classes
                    var top = -Double.infinity
                    for c in 0..<classes { top = max(top, Double(s[c])) }
                    var sum = 0.0
                    for c in 0..<classes { let e = Foundation.exp(Double(s[c]) - top); probs[(start + r) * classes + c] = e; sum += e }
                    for c in 0..<classes { probs[(start + r) * classes + c] /= sum }
                }
            }
            start += n
        }
    }
    return (predicted, probs)
}

/// The confusion matrix of `network` on `split` (see `classifyRows`).
public func confusionMatrix<T: Real>(_ network: Network<T>, on split: Split, batch: Int) -> ConfusionMatrix {
    let p = classifyRows(network, x: split.x, rows: split.count, batch: batch).predicted
    return ConfusionMatrix(labels: split.y, predicted: p, classes: network.numClasses)
}

/// Per-class results of a trial's best parameters: class names and the confusion matrices on
/// the validation and test splits (nil for an empty split). Kept in the trial's record;
/// `confusion_val.csv`, `confusion_test.csv`, `per_class.csv` and `confusion.svg` are exports.
public struct TrialEvaluation: Sendable, Equatable {
    public var classNames: [String]
    public var val: ConfusionMatrix?
    public var test: ConfusionMatrix?

    public init(classNames: [String], val: ConfusionMatrix?, test: ConfusionMatrix?) {
        self.classNames = classNames; self.val = val; self.test = test
    }

    /// Evaluates `network` (its current parameters) on the validation and test splits of `data`.
    public init<T: Real>(network: Network<T>, data: Dataset, batch: Int) {
        let names = data.classNames.count == network.numClasses ? data.classNames : (0..<network.numClasses).map(String.init)
        self.init(classNames: names,
                  val: data.val.count > 0 ? confusionMatrix(network, on: data.val, batch: batch) : nil,
                  test: data.test.count > 0 ? confusionMatrix(network, on: data.test, batch: batch) : nil)
    }

    /// `per_class.csv`: class, val_acc, test_acc (empty when the split has no row of the class).
    public var perClassCSV: String {
        csv(["class", "val_acc", "test_acc"], classNames.indices.map { c in
            [classNames[c], fmtAcc(val?.classAccuracy(c)), fmtAcc(test?.classAccuracy(c))]
        })
    }

    var json: JSON {
        .object([("classes", .array(classNames.map { .string($0) })),
                 ("val", val?.json ?? .null), ("test", test?.json ?? .null)])
    }

    init?(json: JSON?) {
        guard case .array(let names)? = json?["classes"] else { return nil }
        var classNames: [String] = []
        for n in names { guard case .string(let s) = n else { return nil }; classNames.append(s) }
        let val = ConfusionMatrix(json: json?["val"]), test = ConfusionMatrix(json: json?["test"])
        for m in [val, test] { if let m, m.classes != classNames.count { return nil } }
        self.init(classNames: classNames, val: val, test: test)
    }

    /// `confusion.svg`: one heat map per split (validation, test) side by side, rows = true
    /// class, columns = predicted; each cell shows its count, shaded by the share of its row.
    public func figure(title: String) -> String {
        let splits = [("validation", val), ("test", test)].compactMap { s in s.1.map { (s.0, $0) } }
        let c = classNames.count
        let cell = max(14.0, min(34.0, 420.0 / Double(max(c, 1))))
        let labelWidth = 34.0 + 7.0 * Double(min(classNames.map(\.count).max() ?? 1, 24))
        let top = 88.0, gap = 48.0
        let panelWidth = labelWidth + cell * Double(c)
        let width = 24 + Double(splits.count) * panelWidth + Double(max(splits.count - 1, 0)) * gap + 24
        let height = top + cell * Double(c) + 56
        var s = svgStart(width: width, height: height, title: title)
        for (k, (name, m)) in splits.enumerated() {
            let x0 = 24 + Double(k) * (panelWidth + gap) + labelWidth
            let caption = "\(name): accuracy \(fmtAcc(m.accuracy)) (\(m.rows) rows)"
            s += "<g class=\"confusion\" data-split=\"\(name)\" data-rows=\"\(m.rows)\" data-correct=\"\(m.correct)\">\n"
            s += "<text x=\"\(svgNum(x0 + cell * Double(c) / 2))\" y=\"50\" text-anchor=\"middle\" font-size=\"13\">\(svgEscape(caption))</text>\n"
            s += "<text x=\"\(svgNum(x0 + cell * Double(c) / 2))\" y=\"\(svgNum(top - 24))\" text-anchor=\"middle\" fill=\"\(plotMutedColor)\">predicted class</text>\n"
            for j in 0..<c {   // predicted classes by number above the columns (rows name them)
                s += "<text x=\"\(svgNum(x0 + cell * (Double(j) + 0.5)))\" y=\"\(svgNum(top - 6))\" text-anchor=\"middle\">\(j)</text>\n"
            }
            let rowTotals = m.classRows
            for i in 0..<c {
                let y = top + cell * Double(i)
                s += "<text x=\"\(svgNum(x0 - 6))\" y=\"\(svgNum(y + cell / 2 + 4))\" text-anchor=\"end\">\(svgEscape("\(i) \(classNames[i])"))</text>\n"
                for j in 0..<c {
                    let n = m.counts[i][j]
                    let share = rowTotals[i] == 0 ? 0 : Double(n) / Double(rowTotals[i])
                    let x = x0 + cell * Double(j)
                    let fill = shade(i == j ? plotPalette[0] : plotPalette[1], share)
                    s += "<rect x=\"\(svgNum(x))\" y=\"\(svgNum(y))\" width=\"\(svgNum(cell))\" height=\"\(svgNum(cell))\" fill=\"\(fill)\" stroke=\"#dddddd\" data-count=\"\(n)\"><title>\(svgEscape("true \(classNames[i]), predicted \(classNames[j]): \(n)"))</title></rect>\n"
                    if cell >= 20, n > 0 {
                        s += "<text x=\"\(svgNum(x + cell / 2))\" y=\"\(svgNum(y + cell / 2 + 4))\" text-anchor=\"middle\" font-size=\"\(cell >= 30 ? 11 : 9)\" fill=\"\(share > 0.5 ? "white" : "black")\">\(n)</text>\n"
                    }
                }
            }
            s += "<text x=\"\(svgNum(x0 + cell * Double(c) / 2))\" y=\"\(svgNum(top + cell * Double(c) + 22))\" text-anchor=\"middle\" fill=\"\(plotMutedColor)\">rows: true class · shade: share of the row (blue: correct)</text>\n"
            s += "</g>\n"
        }
        return s + "</svg>\n"
    }
}

/// `color` (`#rrggbb`) mixed with white: `share` 0 is white, 1 the colour itself.
func shade(_ color: String, _ share: Double) -> String {
    let hex = Int(color.dropFirst(), radix: 16) ?? 0
    let t = min(max(share, 0), 1)
    let parts = [16, 8, 0].map { shift -> Int in
        let v = Double((hex >> shift) & 0xFF)
        return Int((255 - (255 - v) * t).rounded())
    }
    return "#" + parts.map { String(format: "%02x", $0) }.joined()
}
