import Foundation

/// A small SVG plot writer: axes with ticks and labels (linear or log10), scatter and line
/// series, a shaded horizontal band, and a legend. Enough for samples and error-against-cost plots.
struct SVGPlot {
  enum Scale { case linear, log }

  struct Series {
    let name: String
    let points: [(Double, Double)]
    let lines: Bool
    let color: String
    /// Marker radius; scatter markers are translucent.
    let radius: Double
    /// Half-lengths of vertical error bars, one per point, if any.
    let errors: [Double]?
  }

  var title: String
  var xLabel: String
  var yLabel: String
  var xScale: Scale = .linear
  var yScale: Scale = .linear
  var width = 600.0
  var height = 400.0
  var series: [Series] = []
  /// A horizontal band (y from low to high) with a name for the legend.
  var band: (name: String, low: Double, high: Double)?

  static let palette = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf"]

  mutating func add(_ name: String, _ points: [(Double, Double)], lines: Bool, radius: Double? = nil,
                    errors: [Double]? = nil) {
    series.append(Series(name: name, points: points, lines: lines,
                         color: SVGPlot.palette[series.count % SVGPlot.palette.count],
                         radius: radius ?? (lines ? 2.5 : 1), errors: errors))
  }

  /// Several plots next to each other in one SVG document.
  static func sideBySide(_ plots: [SVGPlot]) -> String {
    let width = plots.reduce(0) { $0 + $1.width }, height = plots.map(\.height).max() ?? 0
    var svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(width))\" height=\"\(Int(height))\" viewBox=\"0 0 \(Int(width)) \(Int(height))\">\n"
    var x = 0.0
    for plot in plots {
      svg += plot.render().replacingOccurrences(of: "<svg xmlns=\"http://www.w3.org/2000/svg\" ", with: "<svg x=\"\(Int(x))\" ")
      x += plot.width
    }
    return svg + "</svg>\n"
  }

  func render() -> String {
    let left = 70.0, right = 20.0, top = 36.0, bottom = 50.0
    let plotWidth = width - left - right, plotHeight = height - top - bottom
    func transform(_ v: Double, _ scale: Scale) -> Double { scale == .log ? log10(max(v, 1e-300)) : v }
    var xs = series.flatMap { $0.points.map { transform($0.0, xScale) } }
    var ys = series.flatMap { s in
      s.points.indices.flatMap { i -> [Double] in
        let y = s.points[i].1, e = s.errors?[i] ?? 0
        return e > 0 ? [transform(y, yScale), transform(y + e, yScale), transform(max(y - e, y / 10), yScale)]
                     : [transform(y, yScale)]
      }
    }
    if let band { ys += [transform(band.low, yScale), transform(band.high, yScale)] }
    if xs.isEmpty { xs = [0, 1] }
    if ys.isEmpty { ys = [0, 1] }
    var (xMin, xMax) = (xs.min()!, xs.max()!)
    var (yMin, yMax) = (ys.min()!, ys.max()!)
    if xMax - xMin < 1e-12 { xMin -= 0.5; xMax += 0.5 }
    if yMax - yMin < 1e-12 { yMin -= 0.5; yMax += 0.5 }
    let xPad = 0.04 * (xMax - xMin), yPad = 0.06 * (yMax - yMin)
    (xMin, xMax, yMin, yMax) = (xMin - xPad, xMax + xPad, yMin - yPad, yMax + yPad)
    func px(_ v: Double) -> Double { left + (transform(v, xScale) - xMin) / (xMax - xMin) * plotWidth }
    func py(_ v: Double) -> Double { top + (yMax - transform(v, yScale)) / (yMax - yMin) * plotHeight }
    func number(_ v: Double) -> String { String(format: "%.1f", v) }

    var svg = """
      <svg xmlns="http://www.w3.org/2000/svg" width="\(Int(width))" height="\(Int(height))" \
      viewBox="0 0 \(Int(width)) \(Int(height))" font-family="sans-serif" font-size="12">
      <rect width="100%" height="100%" fill="white"/>
      <text x="\(number(width / 2))" y="20" text-anchor="middle" font-size="14">\(escape(title))</text>

      """
    if let band {
      let y1 = py(band.high), y2 = py(band.low)
      svg += "<g class=\"band\"><rect x=\"\(number(left))\" y=\"\(number(y1))\" width=\"\(number(plotWidth))\" height=\"\(number(max(1, y2 - y1)))\" fill=\"#cccccc\" fill-opacity=\"0.5\"/></g>\n"
    }
    // Axes, ticks and labels.
    svg += "<g class=\"axes\" stroke=\"black\" fill=\"none\"><rect x=\"\(number(left))\" y=\"\(number(top))\" width=\"\(number(plotWidth))\" height=\"\(number(plotHeight))\"/></g>\n<g class=\"ticks\">\n"
    for (value, label) in ticks(xMin, xMax, xScale) {
      let x = left + (value - xMin) / (xMax - xMin) * plotWidth
      svg += "<line x1=\"\(number(x))\" y1=\"\(number(top + plotHeight))\" x2=\"\(number(x))\" y2=\"\(number(top + plotHeight + 5))\" stroke=\"black\"/>"
      svg += "<text x=\"\(number(x))\" y=\"\(number(top + plotHeight + 18))\" text-anchor=\"middle\">\(label)</text>\n"
    }
    for (value, label) in ticks(yMin, yMax, yScale) {
      let y = top + (yMax - value) / (yMax - yMin) * plotHeight
      svg += "<line x1=\"\(number(left - 5))\" y1=\"\(number(y))\" x2=\"\(number(left))\" y2=\"\(number(y))\" stroke=\"black\"/>"
      svg += "<text x=\"\(number(left - 8))\" y=\"\(number(y + 4))\" text-anchor=\"end\">\(label)</text>\n"
    }
    svg += "</g>\n"
    svg += "<text x=\"\(number(left + plotWidth / 2))\" y=\"\(number(height - 10))\" text-anchor=\"middle\">\(escape(xLabel))</text>\n"
    svg += "<text x=\"15\" y=\"\(number(top + plotHeight / 2))\" text-anchor=\"middle\" transform=\"rotate(-90 15 \(number(top + plotHeight / 2)))\">\(escape(yLabel))</text>\n"
    // Series: one group each.
    for s in series {
      svg += "<g class=\"series\" data-name=\"\(escape(s.name))\" fill=\"\(s.color)\" stroke=\"\(s.color)\">"
      if let errors = s.errors {
        // Bars from y − e to y + e; on a log axis a bar reaching zero stops a decade below y.
        for (p, e) in zip(s.points, errors) where e > 0 {
          let low = yScale == .log ? max(p.1 - e, p.1 / 10) : p.1 - e
          svg += "<line x1=\"\(number(px(p.0)))\" y1=\"\(number(py(low)))\" x2=\"\(number(px(p.0)))\" y2=\"\(number(py(p.1 + e)))\" stroke-width=\"1\"/>"
        }
      }
      if s.lines {
        let path = s.points.enumerated().map { i, p in "\(i == 0 ? "M" : "L")\(number(px(p.0))),\(number(py(p.1)))" }.joined(separator: " ")
        svg += "<path d=\"\(path)\" fill=\"none\" stroke-width=\"1.5\"/>"
        for p in s.points { svg += "<circle cx=\"\(number(px(p.0)))\" cy=\"\(number(py(p.1)))\" r=\"\(s.radius)\"/>" }
      } else {
        let opacity = s.radius > 2 ? 1 : 0.35
        for p in s.points { svg += "<circle cx=\"\(number(px(p.0)))\" cy=\"\(number(py(p.1)))\" r=\"\(s.radius)\" fill-opacity=\"\(opacity)\" stroke=\"none\"/>" }
      }
      svg += "</g>\n"
    }
    // Legend, top right inside the plot.
    let entries = series.map { ($0.name, $0.color) } + (band.map { [($0.name, "#cccccc")] } ?? [])
    svg += "<g class=\"legend\">"
    for (i, entry) in entries.enumerated() {
      let y = top + 14 + Double(i) * 16
      svg += "<rect x=\"\(number(left + plotWidth - 150))\" y=\"\(number(y - 9))\" width=\"10\" height=\"10\" fill=\"\(entry.1)\"/>"
      svg += "<text x=\"\(number(left + plotWidth - 135))\" y=\"\(number(y))\">\(escape(entry.0))</text>"
    }
    svg += "</g>\n</svg>\n"
    return svg
  }

  /// About five ticks: nice linear steps, or powers of ten on a log axis (in transformed units).
  private func ticks(_ low: Double, _ high: Double, _ scale: Scale) -> [(Double, String)] {
    if scale == .log {
      let first = Int(low.rounded(.up)), last = Int(high.rounded(.down))
      guard first <= last else { return [(low, String(format: "%.2g", pow(10, low)))] }
      let stride = max(1, (last - first + 5) / 6)
      return Swift.stride(from: first, through: last, by: stride).map { (Double($0), "1e\($0)") }
    }
    let raw = (high - low) / 5
    let magnitude = pow(10, (log10(raw)).rounded(.down))
    let step = [1.0, 2, 5, 10].map { $0 * magnitude }.first { $0 >= raw } ?? raw
    var values: [(Double, String)] = []
    var v = (low / step).rounded(.up) * step
    while v <= high + 1e-12 {
      values.append((v, String(format: step < 1 ? "%.2g" : "%.0f", abs(v) < 1e-12 ? 0 : v)))
      v += step
    }
    return values
  }

  private func escape(_ text: String) -> String {
    text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
      .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
  }
}
