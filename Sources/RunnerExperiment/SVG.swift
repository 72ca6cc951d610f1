import Foundation

// A tiny SVG writer for the experiment figures: panels stacked vertically, each with a
// linear or log10 x/y axis, "nice" ticks, line and point series, and one shared legend.
// Series are `<g class="series" data-label="…" data-points="N" data-status="…">` so
// tests and scripts can find them.

/// Okabe–Ito colours (colour-blind safe), the low-contrast yellow left out.
let plotPalette = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#999999"]
let plotMutedColor = "#555555"

/// Escapes text for SVG element content and attribute values.
func svgEscape(_ s: String) -> String {
    var out = ""
    for c in s {
        switch c {
        case "&": out += "&amp;"
        case "<": out += "&lt;"
        case ">": out += "&gt;"
        case "\"": out += "&quot;"
        case "'": out += "&apos;"
        default: out.append(c)
        }
    }
    return out
}

/// The opening of a figure `width × height` pixels: the `<svg>` element, its title (also drawn
/// centred at the top), a white background. Close it with `</svg>`.
func svgStart(width: Double, height: Double, title: String) -> String {
    """
    <svg xmlns="http://www.w3.org/2000/svg" width="\(svgNum(width))" height="\(svgNum(height))" \
    viewBox="0 0 \(svgNum(width)) \(svgNum(height))" font-family="DejaVu Sans, Helvetica, Arial, sans-serif" font-size="12">
    <title>\(svgEscape(title))</title>
    <rect width="100%" height="100%" fill="white"/>
    <text class="figure-title" x="\(svgNum(width / 2))" y="26" text-anchor="middle" font-size="16" font-weight="bold">\(svgEscape(title))</text>

    """
}

/// A pixel coordinate with one decimal, as short as possible.
func svgNum(_ v: Double) -> String {
    let r = (v * 10).rounded() / 10
    return r == r.rounded() ? String(Int(r)) : String(format: "%.1f", r)
}

/// Short form of a data value: up to 4 significant digits.
func plotShortNumber(_ v: Double) -> String {
    if v == 0 { return "0" }
    if v == v.rounded(), abs(v) < 1e6 { return String(Int(v)) }
    return String(format: "%.4g", v)
}

// MARK: - Axes

struct PlotTick {
    var value: Double
    var label: String        // empty for minor ticks
    var exponent: String?    // log axes: label is "10", exponent the superscript
}

struct PlotAxis {
    var lo: Double
    var hi: Double
    var log: Bool
    var label: String
    /// Ticks at whole numbers only (epochs, iterations).
    var integer = false

    /// Axis through `values` (finite, and positive on a log axis) with a margin of `pad`
    /// of the span on each side.
    static func fitting(_ values: [Double], log: Bool, label: String, pad: Double = 0.04, integer: Bool = false) -> PlotAxis {
        let v = values.filter { $0.isFinite && (!log || $0 > 0) }.map { log ? Foundation.log10($0) : $0 }
        var lo = v.min() ?? 0, hi = v.max() ?? 1
        if hi - lo < 1e-12 * max(abs(lo), 1) {   // one value: a small range around it
            let d = log ? 0.5 : lo == 0 ? 1 : abs(lo) * 0.1
            lo -= d; hi += d
        }
        let m = (hi - lo) * pad
        lo -= m; hi += m
        return log ? PlotAxis(lo: pow(10, lo), hi: pow(10, hi), log: true, label: label)
                   : PlotAxis(lo: lo, hi: hi, log: false, label: label, integer: integer)
    }

    /// Position of `v` on the axis: 0 at `lo`, 1 at `hi` (not clamped; NaN for v ≤ 0 on a log axis).
    func fraction(_ v: Double) -> Double {
        if log { return v > 0 ? (Foundation.log10(v) - Foundation.log10(lo)) / (Foundation.log10(hi) - Foundation.log10(lo)) : .nan }
        return (v - lo) / (hi - lo)
    }

    func contains(_ v: Double) -> Bool { let f = fraction(v); return f >= -1e-9 && f <= 1 + 1e-9 }

    func ticks() -> [PlotTick] { log ? logTicks() : linearTicks() }

    /// 1, 2 or 5 × 10^k steps giving about `target` ticks.
    static func niceStep(_ span: Double, target: Int = 6) -> Double {
        let raw = span / Double(max(target - 1, 1))
        let mag = pow(10, floor(Foundation.log10(raw)))
        let f = raw / mag
        return (f < 1.5 ? 1 : f < 3 ? 2 : f < 7 ? 5 : 10) * mag
    }

    func linearTicks() -> [PlotTick] {
        let step = integer ? max(PlotAxis.niceStep(hi - lo), 1) : PlotAxis.niceStep(hi - lo)
        let decimals = max(0, -Int(floor(Foundation.log10(step) + 1e-9)))
        var out: [PlotTick] = []
        var k = ceil(lo / step - 1e-9)
        while k * step <= hi + step * 1e-9 {
            let v = k * step
            let label = abs(v) >= 1e6 ? String(format: "%g", v) : String(format: "%.\(decimals)f", v == 0 ? 0 : v)
            out.append(PlotTick(value: v, label: label))
            k += 1
        }
        return out
    }

    func logTicks() -> [PlotTick] {
        let a = Foundation.log10(lo), b = Foundation.log10(hi)
        let first = Int(ceil(a - 1e-9)), last = Int(floor(b + 1e-9))
        let decades = last - first + 1
        var out: [PlotTick] = []
        if decades >= 2 {
            let every = max(1, Int(ceil(Double(decades) / 8)))
            for e in first...last {
                let major = (e - first) % every == 0
                out.append(PlotTick(value: pow(10, Double(e)), label: major ? "10" : "", exponent: major ? String(e).replacingOccurrences(of: "-", with: "−") : nil))
            }
            if decades <= 6 {   // unlabelled minor ticks at 2…9 × 10^e
                for e in (first - 1)...last { for m in 2...9 {
                    let v = Double(m) * pow(10, Double(e))
                    if contains(v) { out.append(PlotTick(value: v, label: "")) }
                } }
            }
        } else {                // less than two decades: 1, 2, 5 × 10^e, plain labels
            for e in (first - 1)...(last + 1) { for m in [1.0, 2.0, 5.0] {
                let v = m * pow(10, Double(e))
                if contains(v) { out.append(PlotTick(value: v, label: plotShortNumber(v))) }
            } }
        }
        return out
    }
}

// MARK: - Figures

enum PlotMarker { case dot, cross, hollowCross, triangle, band, none }

struct PlotSeries {
    var label: String
    var color: String
    var points: [(x: Double, y: Double)]
    /// Draw a line through `line` (NaN y breaks it); markers are drawn at `points`.
    var line: [(x: Double, y: Double)]? = nil
    var markerSize: Double = 2.5
    var status: String = "finished"
    /// Points drawn with an ✕ (e.g. where a diverged trial's loss stops).
    var crosses: [(x: Double, y: Double)] = []
    /// Points that are not real values (diverged/failed trials), drawn as hollow ✕ at `flagEdge`.
    var flagged: [Double] = []
    var flagEdge: FlagEdge = .bottom
    enum FlagEdge { case top, bottom }
    /// Dash pattern of the line (SVG stroke-dasharray), nil for solid.
    var dash: String? = nil
    /// A shaded band from `lo` to `hi` behind the line (e.g. the range over repeats).
    var band: [(x: Double, lo: Double, hi: Double)] = []
}

/// A continuous colour scale (`plotRamp`) from `lo` to `hi`, drawn as a bar in the legend.
struct PlotColorBar {
    var label: String
    var lo: Double
    var hi: Double
    var log: Bool
    /// Values marked on the bar (besides its ends).
    var ticks: [Double] = []
}

struct PlotPanel {
    var title: String
    var x: PlotAxis
    var y: PlotAxis
    var series: [PlotSeries]
}

struct PlotLegendEntry {
    var label: String
    var color: String
    var marker: PlotMarker
    var line: Bool
    var dash: String? = nil
}

struct PlotFigure {
    var title: String
    var panels: [PlotPanel]
    var legend: [PlotLegendEntry]
    var plotWidth = 620.0
    var plotHeight = 210.0
    /// Panels per row (small multiples), filled row by row.
    var columns = 1
    var colorBar: PlotColorBar? = nil

    static let charWidth = 6.6     // rough width of a 12 px sans-serif character
    static let maxLegendChars = 48

    func svg() -> String {
        let left = 72.0, top = 48.0, panelGap = 78.0, right = 16.0, columnGap = 84.0
        let cols = max(1, columns), rows = (panels.count + cols - 1) / cols
        let legendChars = min(legend.map(\.label.count).max() ?? 0, PlotFigure.maxLegendChars)
        let barHeight = colorBar == nil ? 0.0 : 66
        let hasLegend = !legend.isEmpty || colorBar != nil
        let legendWidth = hasLegend ? max(44 + Double(legendChars) * PlotFigure.charWidth, colorBar == nil ? 0 : 200) : 0
        let plotsWidth = Double(cols) * plotWidth + Double(cols - 1) * columnGap
        let width = left + plotsWidth + (hasLegend ? 24 + legendWidth + right : right)
        let panelsHeight = top + Double(rows) * (plotHeight + panelGap)
        let legendHeight = top + 28 + barHeight + Double(legend.count) * 18
        let height = max(panelsHeight, legendHeight)
        var s = svgStart(width: width, height: height, title: title)
        for (i, p) in panels.enumerated() {
            s += panelSVG(p, index: i, x0: left + Double(i % cols) * (plotWidth + columnGap), y0: top + 22 + Double(i / cols) * (plotHeight + panelGap))
        }
        if let bar = colorBar { s += colorBarSVG(bar, x0: left + plotsWidth + 24, y0: top + 22) }
        if !legend.isEmpty { s += legendSVG(x0: left + plotsWidth + 24, y0: top + 22 + barHeight) }
        return s + "</svg>\n"
    }

    private func panelSVG(_ p: PlotPanel, index: Int, x0: Double, y0: Double) -> String {
        let w = plotWidth, h = plotHeight
        func px(_ v: Double) -> Double { x0 + w * min(max(p.x.fraction(v), -20), 21) }
        func py(_ v: Double) -> Double { y0 + h * (1 - min(max(p.y.fraction(v), -20), 21)) }
        var s = "<g class=\"panel\" data-title=\"\(svgEscape(p.title))\">\n"
        s += "<text class=\"panel-title\" x=\"\(svgNum(x0 + w / 2))\" y=\"\(svgNum(y0 - 8))\" text-anchor=\"middle\" font-size=\"13\">\(svgEscape(p.title))</text>\n"
        s += "<clipPath id=\"clip\(index)\"><rect x=\"\(svgNum(x0))\" y=\"\(svgNum(y0))\" width=\"\(svgNum(w))\" height=\"\(svgNum(h))\"/></clipPath>\n"
        // axes, grid and tick labels
        for (axis, name) in [(p.x, "x"), (p.y, "y")] {
            s += "<g class=\"axis \(name)\" data-scale=\"\(axis.log ? "log" : "linear")\">\n"
            for t in axis.ticks() where axis.contains(t.value) {
                let major = !t.label.isEmpty
                let tick = major ? 5.0 : 3.0
                if name == "x" {
                    let x = svgNum(px(t.value))
                    if major { s += "<line x1=\"\(x)\" y1=\"\(svgNum(y0))\" x2=\"\(x)\" y2=\"\(svgNum(y0 + h))\" stroke=\"#e6e6e6\"/>" }
                    s += "<line x1=\"\(x)\" y1=\"\(svgNum(y0 + h))\" x2=\"\(x)\" y2=\"\(svgNum(y0 + h + tick))\" stroke=\"black\"/>"
                    if major { s += tickLabel(t, x: px(t.value), y: y0 + h + 18, anchor: "middle") }
                } else {
                    let y = svgNum(py(t.value))
                    if major { s += "<line x1=\"\(svgNum(x0))\" y1=\"\(y)\" x2=\"\(svgNum(x0 + w))\" y2=\"\(y)\" stroke=\"#e6e6e6\"/>" }
                    s += "<line x1=\"\(svgNum(x0 - tick))\" y1=\"\(y)\" x2=\"\(svgNum(x0))\" y2=\"\(y)\" stroke=\"black\"/>"
                    if major { s += tickLabel(t, x: x0 - 8, y: py(t.value) + 4, anchor: "end") }
                }
                s += "\n"
            }
            s += "</g>\n"
        }
        s += "<rect class=\"frame\" x=\"\(svgNum(x0))\" y=\"\(svgNum(y0))\" width=\"\(svgNum(w))\" height=\"\(svgNum(h))\" fill=\"none\" stroke=\"black\"/>\n"
        s += "<text class=\"axis-label x\" x=\"\(svgNum(x0 + w / 2))\" y=\"\(svgNum(y0 + h + 38))\" text-anchor=\"middle\">\(svgEscape(p.x.label))</text>\n"
        s += "<text class=\"axis-label y\" transform=\"translate(\(svgNum(x0 - 54)),\(svgNum(y0 + h / 2))) rotate(-90)\" text-anchor=\"middle\">\(svgEscape(p.y.label))</text>\n"
        // series: lines clipped to the frame; markers clamped onto it (off-scale ones as ▲/▼)
        for series in p.series {
            let pts = series.points.filter { $0.x.isFinite && $0.y.isFinite && !p.x.fraction($0.x).isNaN && !p.y.fraction($0.y).isNaN }
            s += "<g class=\"series\" data-label=\"\(svgEscape(series.label))\" data-points=\"\(pts.count)\" data-status=\"\(svgEscape(series.status))\">"
            s += "<title>\(svgEscape(series.label))</title>\n"
            let inFrame = { (x: Double, y: Double) in x.isFinite && y.isFinite && !p.x.fraction(x).isNaN && !p.y.fraction(y).isNaN }
            let band = series.band.filter { inFrame($0.x, $0.lo) && inFrame($0.x, $0.hi) }
            if band.count > 1 {
                let d = "M" + (band.map { "\(svgNum(px($0.x))) \(svgNum(py($0.hi)))" } + band.reversed().map { "\(svgNum(px($0.x))) \(svgNum(py($0.lo)))" }).joined(separator: "L") + "Z"
                s += "<path class=\"band\" clip-path=\"url(#clip\(index))\" d=\"\(d)\" fill=\"\(series.color)\" fill-opacity=\"0.18\" stroke=\"none\"/>\n"
            }
            if let line = series.line {
                var d = "", pen = false
                for q in line {
                    guard q.x.isFinite, q.y.isFinite, !p.x.fraction(q.x).isNaN, !p.y.fraction(q.y).isNaN else { pen = false; continue }
                    d += (pen ? "L" : "M") + svgNum(px(q.x)) + " " + svgNum(py(q.y))
                    pen = true
                }
                if !d.isEmpty {
                    let dash = series.dash.map { " stroke-dasharray=\"\($0)\"" } ?? ""
                    s += "<path class=\"line\" clip-path=\"url(#clip\(index))\" d=\"\(d)\" fill=\"none\" stroke=\"\(series.color)\" stroke-width=\"1.5\" stroke-linejoin=\"round\"\(dash)/>\n"
                }
            }
            var dots = "", off = ""
            let r = series.markerSize
            for q in pts {
                let fy = p.y.fraction(q.y), x = px(q.x)
                if fy > 1 { off += triangle(x, y0, r: r + 1, up: true) }
                else if fy < 0 { off += triangle(x, y0 + h, r: r + 1, up: false) }
                else { dots += "M\(svgNum(x - r)) \(svgNum(py(q.y)))a\(svgNum(r)) \(svgNum(r)) 0 1 0 \(svgNum(2 * r)) 0a\(svgNum(r)) \(svgNum(r)) 0 1 0 \(svgNum(-2 * r)) 0" }
            }
            if !dots.isEmpty { s += "<path class=\"markers\" d=\"\(dots)\" fill=\"\(series.color)\"/>\n" }
            if !off.isEmpty { s += "<path class=\"offscale\" d=\"\(off)\" fill=\"white\" stroke=\"\(series.color)\" stroke-width=\"1.2\"/>\n" }
            if !series.crosses.isEmpty {
                let d = series.crosses.map { cross(px($0.x), min(max(py($0.y), y0), y0 + h), r: 5) }.joined()
                s += "<path class=\"diverged\" d=\"\(d)\" fill=\"none\" stroke=\"\(series.color)\" stroke-width=\"2.5\"/>\n"
            }
            if !series.flagged.isEmpty {
                let y = series.flagEdge == .top ? y0 + 7 : y0 + h - 7
                let d = series.flagged.map { hollowCross(px($0), y, r: 5) }.joined()
                s += "<path class=\"flagged\" data-points=\"\(series.flagged.count)\" d=\"\(d)\" fill=\"white\" stroke=\"\(series.color)\" stroke-width=\"1.2\"/>\n"
            }
            s += "</g>\n"
        }
        return s + "</g>\n"
    }

    private func tickLabel(_ t: PlotTick, x: Double, y: Double, anchor: String) -> String {
        var s = "<text class=\"tick\" data-value=\"\(t.value)\" x=\"\(svgNum(x))\" y=\"\(svgNum(y))\" text-anchor=\"\(anchor)\">\(svgEscape(t.label))"
        if let e = t.exponent { s += "<tspan dy=\"-5\" font-size=\"9\">\(svgEscape(e))</tspan>" }
        return s + "</text>"
    }

    private func legendSVG(x0: Double, y0: Double) -> String {
        var s = "<g class=\"legend\">\n"
        for (i, e) in legend.enumerated() {
            let y = y0 + 8 + Double(i) * 18
            var label = e.label
            if label.count > PlotFigure.maxLegendChars { label = String(label.prefix(PlotFigure.maxLegendChars - 1)) + "…" }
            s += "<g class=\"legend-entry\" data-label=\"\(svgEscape(e.label))\">"
            if e.marker == .band { s += "<rect x=\"\(svgNum(x0))\" y=\"\(svgNum(y - 6))\" width=\"28\" height=\"12\" fill=\"\(e.color)\" fill-opacity=\"0.18\"/>" }
            if e.line { s += "<line x1=\"\(svgNum(x0))\" y1=\"\(svgNum(y))\" x2=\"\(svgNum(x0 + 28))\" y2=\"\(svgNum(y))\" stroke=\"\(e.color)\" stroke-width=\"1.5\"\(e.dash.map { " stroke-dasharray=\"\($0)\"" } ?? "")/>" }
            let cx = x0 + 14
            switch e.marker {
            case .dot: s += "<circle cx=\"\(svgNum(cx))\" cy=\"\(svgNum(y))\" r=\"3\" fill=\"\(e.color)\"/>"
            case .cross: s += "<path d=\"\(cross(cx, y, r: 5))\" stroke=\"\(e.color)\" stroke-width=\"2.5\" fill=\"none\"/>"
            case .hollowCross: s += "<path d=\"\(hollowCross(cx, y, r: 5))\" stroke=\"\(e.color)\" stroke-width=\"1.2\" fill=\"white\"/>"
            case .triangle: s += "<path d=\"\(triangle(cx, y - 3, r: 3.5, up: true))\" stroke=\"\(e.color)\" stroke-width=\"1.2\" fill=\"white\"/>"
            case .band, .none: break
            }
            s += "<text x=\"\(svgNum(x0 + 36))\" y=\"\(svgNum(y + 4))\">\(svgEscape(label))</text></g>\n"
        }
        return s + "</g>\n"
    }

    /// The continuous colour scale: its label, a gradient bar, the values at its ends (and ticks).
    private func colorBarSVG(_ b: PlotColorBar, x0: Double, y0: Double) -> String {
        let w = 180.0, h = 12.0, top = y0 + 14
        var s = "<g class=\"colorbar\" data-label=\"\(svgEscape(b.label))\" data-lo=\"\(b.lo)\" data-hi=\"\(b.hi)\" data-scale=\"\(b.log ? "log" : "linear")\">\n"
        s += "<defs><linearGradient id=\"colorbar-ramp\" x1=\"0\" x2=\"1\" y1=\"0\" y2=\"0\">"
        s += (0...10).map { "<stop offset=\"\(Double($0) / 10)\" stop-color=\"\(plotRamp(Double($0) / 10))\"/>" }.joined() + "</linearGradient></defs>\n"
        s += "<text x=\"\(svgNum(x0))\" y=\"\(svgNum(y0 + 4))\">colour: \(svgEscape(b.label))\(b.log ? " (log scale)" : "")</text>\n"
        s += "<rect x=\"\(svgNum(x0))\" y=\"\(svgNum(top))\" width=\"\(svgNum(w))\" height=\"\(svgNum(h))\" fill=\"url(#colorbar-ramp)\" stroke=\"#888888\"/>\n"
        func f(_ v: Double) -> Double {
            let r = b.log ? (Foundation.log10(v) - Foundation.log10(b.lo)) / (Foundation.log10(b.hi) - Foundation.log10(b.lo)) : (v - b.lo) / (b.hi - b.lo)
            return r.isFinite ? r : 0.5
        }
        let marks = b.ticks.count <= 4 ? Array(Set(b.ticks + [b.lo, b.hi])).sorted() : [b.lo, b.hi]
        for v in marks {
            let x = x0 + w * f(v)
            s += "<line x1=\"\(svgNum(x))\" y1=\"\(svgNum(top + h))\" x2=\"\(svgNum(x))\" y2=\"\(svgNum(top + h + 4))\" stroke=\"black\"/>"
            s += "<text class=\"tick\" data-value=\"\(v)\" x=\"\(svgNum(x))\" y=\"\(svgNum(top + h + 16))\" text-anchor=\"middle\">\(svgEscape(plotShortNumber(v)))</text>\n"
        }
        return s + "</g>\n"
    }

    private func cross(_ x: Double, _ y: Double, r: Double) -> String {
        "M\(svgNum(x - r)) \(svgNum(y - r))l\(svgNum(2 * r)) \(svgNum(2 * r))m0 \(svgNum(-2 * r))l\(svgNum(-2 * r)) \(svgNum(2 * r))"
    }

    /// An outlined ✕ (a closed 12-sided polygon) of half-width `r`.
    private func hollowCross(_ x: Double, _ y: Double, r: Double) -> String {
        let a = r * 0.35   // half arm width along the axes
        let pts: [(Double, Double)] = [(0, -a), (r - a, -r), (r, -r + a), (a, 0), (r, r - a), (r - a, r),
                                       (0, a), (-r + a, r), (-r, r - a), (-a, 0), (-r, -r + a), (-r + a, -r)]
        return "M" + pts.map { "\(svgNum(x + $0.0)) \(svgNum(y + $0.1))" }.joined(separator: "L") + "Z"
    }

    /// A small triangle with its tip on (x, y), pointing up (off the top) or down.
    private func triangle(_ x: Double, _ y: Double, r: Double, up: Bool) -> String {
        let d = up ? 1.6 * r : -1.6 * r
        return "M\(svgNum(x)) \(svgNum(y))L\(svgNum(x + r)) \(svgNum(y + d))L\(svgNum(x - r)) \(svgNum(y + d))Z"
    }
}
