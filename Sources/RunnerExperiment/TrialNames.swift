import Foundation

// Readable names of trials, made in ONE place (`TrialNames.assign`) and used everywhere:
// the console, the figures, the tables' column headers, the results page and the trial
// folders. A trial's label is its index, its arm and the swept values that tell it apart:
//
//   label   t03 batchnorm ws=1.6e-4              (console, figures, page, CSV headers)
//   folder  trials/t03-batchnorm-ws1.6e-4-2e505db045   (label parts as a slug, then the id)
//
// Folders of earlier versions (`trials/<id>`) and of earlier plans (another index or label,
// the same id) are found by their id (`TrialDirectories`), so finished work is never lost.

public enum TrialNames {
    /// Gives every trial of `trials` (one plan, in order) its label and folder name.
    static func assign(_ trials: inout [TrialPlan]) {
        let names = make(trials.map { ($0.index, $0.id, $0.arm, $0.parameters) })
        for k in trials.indices { (trials[k].label, trials[k].folderName) = names[k] }
    }

    /// Labels and folder names of the trials `(index, id, arm, swept values)` of one plan.
    /// Only columns that vary and are not set by the arm alone are named; each number is
    /// printed with the fewest significant digits (at least 2) that keep the column's
    /// distinct values distinct; a column is named by the initials of its last path
    /// component (`weight_scale` → `ws`) unless two columns would share a name; a fraction
    /// never prints as a whole number.
    public static func make(_ trials: [(index: Int, id: String, arm: String?, parameters: [(path: String, value: JSON)])]) -> [(label: String, folder: String)] {
        let width = max(2, String(max(trials.count - 1, 0)).count)
        let paths = trials.first?.parameters.map(\.path) ?? []
        let arms = Set(trials.compactMap(\.arm))
        func values(_ path: String, _ ts: some Sequence<(index: Int, id: String, arm: String?, parameters: [(path: String, value: JSON)])>) -> Set<String> {
            Set(ts.map { t in t.parameters.first { $0.path == path }?.value.compact ?? "" })
        }
        let shown = paths.filter { p in
            guard values(p, trials).count > 1 else { return false }
            // a value set by the arm (one per arm) repeats the arm's name
            return arms.isEmpty || arms.contains { a in values(p, trials.filter { $0.arm == a }).count > 1 }
        }
        let short = abbreviations(shown)
        var formats: [String: (JSON) -> String] = [:]
        for p in shown {
            let numbers = Set(trials.compactMap { t -> Double? in
                if case .number(let x)? = t.parameters.first(where: { $0.path == p })?.value { return x }
                return nil
            })
            let digits = distinguishingDigits(Array(numbers))
            formats[p] = { v in if case .number(let x) = v { return number(x, digits: digits) }; return text(v) }
        }
        return trials.map { t in
            var parts: [(name: String, value: String)] = []
            if let a = t.arm { parts.append(("", a)) }
            for p in shown {
                let v = t.parameters.first { $0.path == p }?.value ?? .null
                parts.append((p == "repeat" ? "r" : short[p] ?? p, formats[p]!(v)))
            }
            let head = "t" + String(t.index).leftPadded(to: width)
            let label = ([head] + parts.map { $0.name.isEmpty ? $0.value : ($0.name == "r" ? "r" : $0.name + "=") + $0.value }).joined(separator: " ")
            var middle = parts.map { slug($0.name + $0.value) }.filter { !$0.isEmpty }.joined(separator: "-")
            // a folder name stays well under the file-system limit (255 bytes)
            if middle.count > 80 { middle = String(middle.prefix(80)) }
            return (label, ([head] + (middle.isEmpty ? [] : [middle]) + [t.id]).joined(separator: "-"))
        }
    }

    /// The name of each path: initials of its last component's words, unless they collide;
    /// then the last component; then the whole path.
    static func abbreviations(_ paths: [String]) -> [String: String] {
        func last(_ p: String) -> String { String(p.split(separator: ".").last ?? Substring(p)) }
        func initials(_ p: String) -> String {
            let words = last(p).split(separator: "_")
            return words.count > 1 ? String(words.compactMap(\.first)) : last(p)
        }
        var out: [String: String] = [:]
        for rule in [initials, last, { $0 }] as [(String) -> String] {
            let names = paths.filter { out[$0] == nil }.map { ($0, rule($0)) }
            let taken = Set(out.values)
            for (p, n) in names where names.filter({ $0.1 == n }).count == 1 && !taken.contains(n) { out[p] = n }
        }
        for p in paths where out[p] == nil { out[p] = p }
        return out
    }

    /// Fewest significant digits (2…17) at which `values` print pairwise different, and no
    /// fraction prints as a whole number (0.999 is "0.999", not "1").
    static func distinguishingDigits(_ values: [Double]) -> Int {
        for d in 2...17 where Set(values.map { number($0, digits: d) }).count == Set(values).count
            && values.allSatisfy({ v in v == v.rounded() || Double(number(v, digits: d)).map { $0 != $0.rounded() } ?? true }) { return d }
        return 17
    }

    /// `v` with `digits` significant digits, trailing zeros dropped: integers as integers,
    /// below 0.01 or from 100,000 up in scientific form without padding (`1.6e-4`, `2e6`).
    public static func number(_ v: Double, digits: Int) -> String {
        guard v.isFinite else { return v.isNaN ? "nan" : v > 0 ? "inf" : "-inf" }
        if v == v.rounded(), abs(v) < 1e5 { return String(Int(v)) }
        let a = abs(v)
        if a < 0.01 || a >= 1e5 {
            let s = String(format: "%.\(max(digits - 1, 0))e", v)
            guard let e = s.firstIndex(of: "e") else { return s }
            var mantissa = String(s[..<e])
            if mantissa.contains(".") {
                while mantissa.hasSuffix("0") { mantissa.removeLast() }
                if mantissa.hasSuffix(".") { mantissa.removeLast() }
            }
            let exponent = Int(s[s.index(after: e)...]) ?? 0
            return mantissa + "e" + String(exponent)
        }
        var s = String(format: "%.\(digits)g", v)
        if s.contains("."), !s.contains("e") {
            while s.hasSuffix("0") { s.removeLast() }
            if s.hasSuffix(".") { s.removeLast() }
        }
        return s
    }

    /// A non-numeric swept value as text: strings as written (control characters as spaces),
    /// lists of numbers as `100x100`, anything else as compact JSON.
    static func text(_ v: JSON) -> String {
        switch v {
        case .string(let s): return String(String.UnicodeScalarView(s.unicodeScalars.map { isControl($0) ? " " : $0 }))
        case .array(let xs) where xs.allSatisfy({ if case .number = $0 { return true }; return false }):
            return xs.map { if case .number(let x) = $0 { return number(x, digits: 4) }; return "" }.joined(separator: "x")
        default: return v.compact
        }
    }

    /// The name slug rule (letters, digits, '.', '_', '-'): any other character becomes '_'.
    public static func slug(_ s: String) -> String {
        String(String.UnicodeScalarView(s.unicodeScalars.map { c in
            c.isASCII && (CharacterSet.alphanumerics.contains(c) || "._-".unicodeScalars.contains(c)) ? c : "_"
        }))
    }

    /// The trial id a folder name ends with: `<id>` (earlier versions) or `…-<id>`.
    public static func id(ofFolder name: String) -> String {
        guard let dash = name.lastIndex(of: "-") else { return name }
        return String(name[name.index(after: dash)...])
    }
}

/// Where each trial of a plan keeps its files: the folder already on disk for its id (from an
/// earlier version, `trials/<id>`, or an earlier plan with other labels) when there is one,
/// preferring one with a record, else its readable name. Built by listing `trials/` once.
public struct TrialDirectories: Sendable {
    private var byID: [String: String] = [:]

    public init(_ plan: ExperimentPlan, folder: ResultsFolder) {
        let ids = Set(plan.trials.map(\.id))
        var found: [String: [String]] = [:]
        for name in folder.list("trials") where !name.hasPrefix(".") {
            let id = TrialNames.id(ofFolder: name)
            if ids.contains(id) { found[id, default: []].append(name) }
        }
        for t in plan.trials {
            let names = (found[t.id] ?? []).sorted()
            let best = names.first { folder.exists("trials/\($0)/record.json") } ?? names.first { $0 == t.folderName } ?? names.first
            byID[t.id] = best ?? t.folderName
        }
    }

    /// The files of trial `t`.
    public subscript(_ t: TrialPlan) -> TrialFiles { TrialFiles(folder: byID[t.id] ?? t.folderName) }

    /// Folder names in use by the plan's trials.
    var names: Set<String> { Set(byID.values) }
}
