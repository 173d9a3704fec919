/// A batch of `count` samples in `dimension` dimensions, stored row-major in one contiguous
/// buffer of `Double`: sample `i`, component `j` is `values[i * dimension + j]`.
///
/// Every protocol call in SDEKit (drift, diffusion, vector field) receives a batch of rows
/// rather than one point, so that per-call overhead is paid once per N·d numbers.
public struct StateBatch: Sendable, Equatable, Hashable {
  /// Number of samples (rows).
  public let count: Int
  /// Number of components per sample (columns).
  public let dimension: Int
  /// The row-major values, `count * dimension` of them.
  public var values: [Double]

  /// A batch of `count` samples of dimension `dimension`, every value set to `value`.
  public init(count: Int, dimension: Int, repeating value: Double = 0) {
    precondition(count >= 0 && dimension >= 1, "StateBatch needs count >= 0 and dimension >= 1")
    self.count = count
    self.dimension = dimension
    self.values = Array(repeating: value, count: count * dimension)
  }

  /// A batch over existing row-major values; `values.count` must equal `count * dimension`.
  public init(count: Int, dimension: Int, values: [Double]) {
    precondition(count >= 0 && dimension >= 1, "StateBatch needs count >= 0 and dimension >= 1")
    precondition(values.count == count * dimension,
                 "StateBatch of \(count)×\(dimension) needs \(count * dimension) values, got \(values.count)")
    self.count = count
    self.dimension = dimension
    self.values = values
  }

  /// A batch whose every row is a copy of `row`.
  public init(count: Int, repeatingRow row: [Double]) {
    precondition(!row.isEmpty, "StateBatch needs a non-empty row")
    self.count = count
    self.dimension = row.count
    var values = [Double]()
    values.reserveCapacity(count * row.count)
    for _ in 0..<count { values.append(contentsOf: row) }
    self.values = values
  }

  /// Component `component` of sample `row`.
  public subscript(row: Int, component: Int) -> Double {
    get { values[row * dimension + component] }
    set { values[row * dimension + component] = newValue }
  }

  /// A copy of sample `row`.
  public func row(_ row: Int) -> [Double] {
    Array(values[(row * dimension)..<((row + 1) * dimension)])
  }

  /// A copy of rows `range`.
  public func rows(_ range: Range<Int>) -> StateBatch {
    StateBatch(count: range.count, dimension: dimension,
               values: Array(values[(range.lowerBound * dimension)..<(range.upperBound * dimension)]))
  }
}
