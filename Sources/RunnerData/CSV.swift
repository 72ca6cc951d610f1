import Foundation

/// `data.source: "csv"`: tables. `data.train` and `data.test` (optionally `data.val`) are
/// CSV files (comma-separated, UTF-8, `"…"` quoting with `""` for a quote) with a header
/// row; `data.label_column` names the class column (default `label`), every other column
/// is a numeric feature. Labels that are all non-negative integers are class indices (the
/// class count is the largest + 1); otherwise they are names, mapped to classes in sorted
/// order of the training file's names (written to the results as classes.csv; a test or
/// validation name the training file lacks is an error). Samples are D features (the
/// model input is D). Empty lines are skipped; NaN and infinite features are errors.
public struct CSVSource: DataSource {
    public static let name = "csv"
    public static let summary = "csv: tables with a header row: `train`/`test` as PATH, the class in `label_column`"
    public static let usesDirectory = false
    public static let fileForm: DataFileForm? = .single
    public static let options = ["label_column"]

    /// A parsed table: feature names, features row by row, label cells and their line numbers.
    struct Table {
        let file: String
        let columns: [String]
        let features: [Float]
        let labelCells: [String]
        let lines: [Int]
        let labelIndex: Int
        var rows: Int { labelCells.count }
    }

    /// Splits one line into fields (RFC 4180 quoting within the line).
    static func fields(_ line: Substring) -> [String]? {
        var out: [String] = [], cur = "", quoted = false, i = line.startIndex
        while i < line.endIndex {
            let c = line[i]
            if quoted {
                if c == "\"" {
                    let n = line.index(after: i)
                    if n < line.endIndex, line[n] == "\"" { cur.append("\""); i = n } else { quoted = false }
                } else { cur.append(c) }
            } else if c == "\"" && cur.isEmpty { quoted = true }
            else if c == "," { out.append(cur); cur = "" }
            else { cur.append(c) }
            i = line.index(after: i)
        }
        if quoted { return nil }
        out.append(cur)
        return out
    }

    static func table(_ path: String, labelColumn: String) throws -> Table {
        let bytes = try DataFile.contents(path)
        guard let text = String(bytes: bytes, encoding: .utf8) else {
            var parser = Unicode.UTF8.ForwardParser(), it = bytes.makeIterator(), offset = 0
            scan: while true {
                switch parser.parseScalar(from: &it) {
                case .valid(let e): offset += e.count
                case .error, .emptyInput: break scan
                }
            }
            let line = 1 + bytes[..<offset].filter { $0 == 10 }.count
            throw DataError.malformed(file: path, position: "line \(line) (byte \(offset))", message: "the file is not UTF-8 text")
        }
        // "\r\n" is one Character in Swift: split on every line break.
        var lines = text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).enumerated().map { ($0.offset + 1, $0.element) }
        lines.removeAll { $0.1.trimmingCharacters(in: .whitespaces).isEmpty }
        guard let (headerLine, header) = lines.first else { throw DataError.malformed(file: path, position: "line 1", message: "the file is empty; expected a header row naming the columns") }
        guard let columns = fields(header)?.map({ $0.trimmingCharacters(in: .whitespaces) }) else {
            throw DataError.malformed(file: path, position: "line \(headerLine)", message: "a quoted field is not closed")
        }
        guard let li = columns.firstIndex(of: labelColumn) else {
            let hint = nearestName(labelColumn, in: columns).map { " (did you mean \"\($0)\"?)" } ?? ""
            throw DataError.malformed(file: path, position: "line \(headerLine) (header)", message: "no column \"\(labelColumn)\" for the labels (data.label_column)\(hint); the columns are \(columns.prefix(20).joined(separator: ", "))\(columns.count > 20 ? ", …" : "")")
        }
        guard columns.count >= 2 else { throw DataError.malformed(file: path, position: "line \(headerLine) (header)", message: "only the label column; a table needs at least one feature column") }
        var features: [Float] = [], labels: [String] = [], numbers: [Int] = []
        features.reserveCapacity((lines.count - 1) * (columns.count - 1))
        for (n, line) in lines.dropFirst() {
            guard let cells = fields(line) else { throw DataError.malformed(file: path, position: "line \(n)", message: "a quoted field is not closed") }
            guard cells.count == columns.count else {
                throw DataError.malformed(file: path, position: "line \(n)", message: "\(cells.count) fields, but the header has \(columns.count) columns")
            }
            for (c, cell) in cells.enumerated() {
                if c == li { labels.append(cell.trimmingCharacters(in: .whitespaces)); continue }
                let t = cell.trimmingCharacters(in: .whitespaces)
                guard let v = Float(t) else {
                    throw DataError.malformed(file: path, position: "line \(n), column \(c + 1) (\"\(columns[c])\")", message: t.isEmpty ? "the cell is empty; features must be numbers" : "\"\(t.prefix(40))\" is not a number")
                }
                guard v.isFinite else { throw DataError.malformed(file: path, position: "line \(n), column \(c + 1) (\"\(columns[c])\")", message: "value \(t) is not a finite number") }
                features.append(v)
            }
            numbers.append(n)
        }
        guard !labels.isEmpty else { throw DataError.malformed(file: path, position: "line \(headerLine + 1)", message: "the table has a header but no rows") }
        return Table(file: path, columns: columns, features: features, labelCells: labels, lines: numbers, labelIndex: li)
    }

    static func nearestName(_ key: String, in names: [String]) -> String? {
        names.first { $0.lowercased() == key.lowercased() } ?? names.first { $0.lowercased().hasPrefix(key.lowercased()) || key.lowercased().hasPrefix($0.lowercased()) }
    }

    /// Train, test (nil when num_test is 0) and val tables, headers checked against the training file's.
    static func tables(_ r: DataRequest) throws -> (train: Table, test: Table?, val: Table?) {
        let train = try table(try files(r, "train").single!, labelColumn: r.labelColumn)
        func other(_ key: String) throws -> Table? {
            guard let f = r.files[key]?.single else { return nil }
            let t = try table(f, labelColumn: r.labelColumn)
            guard t.columns == train.columns else {
                throw DataError.malformed(file: f, position: "line 1 (header)", message: "the columns differ from the training file \(train.file)'s (\(train.columns.count) columns: \(train.columns.prefix(8).joined(separator: ", "))\(train.columns.count > 8 ? ", …" : ""))")
            }
            return t
        }
        return (train, r.numTest == 0 ? nil : try other("test"), try other("val"))
    }

    /// Class names and each table's labels as indices.
    static func classes(_ train: Table, _ others: [Table]) throws -> (names: [String], labels: [[Int32]]) {
        let all = [train] + others
        if all.allSatisfy({ $0.labelCells.allSatisfy { UInt32($0) != nil } }) {
            let labels = all.map { $0.labelCells.map { Int32(UInt32($0)!) } }
            guard let top = labels.joined().max(), top < 100_000 else {
                let t = all.first { $0.labelCells.contains { Int($0)! >= 100_000 } }!, i = t.labelCells.firstIndex { Int($0)! >= 100_000 }!
                throw DataError.malformed(file: t.file, position: "line \(t.lines[i]), column \(t.labelIndex + 1)", message: "label \(t.labelCells[i]) is out of range (class indices below 100000)")
            }
            return ((0...Int(top)).map(String.init), labels)
        }
        let names = Array(Set(train.labelCells)).sorted()
        let index = Dictionary(uniqueKeysWithValues: names.enumerated().map { ($1, Int32($0)) })
        let labels = try all.map { t in
            try t.labelCells.enumerated().map { i, cell -> Int32 in
                guard let k = index[cell] else {
                    throw DataError.malformed(file: t.file, position: "line \(t.lines[i]), column \(t.labelIndex + 1)", message: "label \"\(cell.prefix(40))\" is not a class of the training file \(train.file) (\(names.prefix(10).joined(separator: ", "))\(names.count > 10 ? ", …" : ""))")
                }
                return k
            }
        }
        return (names, labels)
    }

    /// The tables, their labels as class indices and the shape (tables are parsed whole, so
    /// inspecting one costs a read).
    static func parsed(_ r: DataRequest) throws -> (train: Table, test: Table?, val: Table?, labels: [[Int32]], shape: DataShape) {
        let (train, test, val) = try tables(r)
        let (names, labels) = try classes(train, [test, val].compactMap { $0 })
        let shape = DataShape(sampleShape: [train.columns.count - 1], numClasses: names.count, classNames: names, trainRows: train.rows,
                              testRows: test?.rows ?? 0, valRows: val?.rows, bytesPerElement: 4, origin: "csv \(train.file)")
        return (train, test, val, labels, shape)
    }

    public static func inspect(_ r: DataRequest) throws -> DataShape { try parsed(r).shape }

    public static func read(_ r: DataRequest) throws -> RawData {
        let (train, test, val, labels, shape) = try parsed(r)
        func rows(_ t: Table, _ l: [Int32]) -> LabeledRows {
            LabeledRows(store: SampleStore(floats: t.features, rowSize: t.columns.count - 1), labels: l)
        }
        var k = 1
        let testRows = test.map { rows($0, labels[1]) }
        if test != nil { k = 2 }
        if let t = testRows, let want = r.numTest, want > t.count { throw DataError.tooFewRows(file: test!.file, needed: want, available: t.count, what: "test") }
        return RawData(train: rows(train, labels[0]), val: val.map { rows($0, labels[k]) }, test: testRows, shape: shape)
    }
}
