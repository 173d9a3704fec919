/// Rows of a batch seen without copying: `rows` samples of `dimension` values each, row-major.
/// What SDEKit hands to a drift, a diffusion, a vector field, a score model or a callback, so
/// that each has both the rows and their dimension.
///
/// As a collection it is the `rows × dimension` values in order (`x[e]`, `x.count`), which suits
/// elementwise formulas; `x[row, component]` and `row(_:)` read it by row.
public struct BatchView: RandomAccessCollection {
  /// The `rows × dimension` values, row-major.
  public let values: UnsafeBufferPointer<Double>
  public let dimension: Int

  @inlinable
  public init(_ values: UnsafeBufferPointer<Double>, dimension: Int) {
    self.values = values
    self.dimension = dimension
  }

  @inlinable public var startIndex: Int { 0 }
  @inlinable public var endIndex: Int { values.count }
  @inlinable public subscript(element: Int) -> Double { values[element] }

  /// Number of rows (samples).
  @inlinable public var rows: Int { values.count / dimension }

  /// Component `component` of row `row`.
  @inlinable
  public subscript(row: Int, component: Int) -> Double { values[row &* dimension &+ component] }

  /// Row `row`'s values.
  @inlinable
  public func row(_ row: Int) -> UnsafeBufferPointer<Double> {
    UnsafeBufferPointer(rebasing: values[(row * dimension)..<((row + 1) * dimension)])
  }

  /// Rows `range`, still without copying.
  @inlinable
  public func rows(_ range: Range<Int>) -> BatchView {
    BatchView(UnsafeBufferPointer(rebasing: values[(range.lowerBound * dimension)..<(range.upperBound * dimension)]),
              dimension: dimension)
  }
}

/// Rows of a batch that a callee writes, without copying (see `BatchView`).
public struct MutableBatchView: RandomAccessCollection, MutableCollection {
  /// The `rows × dimension` values, row-major.
  public let values: UnsafeMutableBufferPointer<Double>
  public let dimension: Int

  @inlinable
  public init(_ values: UnsafeMutableBufferPointer<Double>, dimension: Int) {
    self.values = values
    self.dimension = dimension
  }

  @inlinable public var startIndex: Int { 0 }
  @inlinable public var endIndex: Int { values.count }
  @inlinable
  public subscript(element: Int) -> Double {
    get { values[element] }
    nonmutating set { values[element] = newValue }
  }

  /// Number of rows (samples).
  @inlinable public var rows: Int { values.count / dimension }

  /// Component `component` of row `row`.
  @inlinable
  public subscript(row: Int, component: Int) -> Double {
    get { values[row &* dimension &+ component] }
    nonmutating set { values[row &* dimension &+ component] = newValue }
  }

  /// The same rows, read-only.
  @inlinable public var view: BatchView { BatchView(UnsafeBufferPointer(values), dimension: dimension) }

  /// Row `row`'s values.
  @inlinable
  public func row(_ row: Int) -> UnsafeMutableBufferPointer<Double> {
    UnsafeMutableBufferPointer(rebasing: values[(row * dimension)..<((row + 1) * dimension)])
  }

  /// Rows `range`, still without copying.
  @inlinable
  public func rows(_ range: Range<Int>) -> MutableBatchView {
    MutableBatchView(UnsafeMutableBufferPointer(rebasing: values[(range.lowerBound * dimension)..<(range.upperBound * dimension)]),
                     dimension: dimension)
  }
}

extension StateBatch {
  /// Calls `body` with a read-only view of the batch.
  @inlinable
  public func withView<R>(_ body: (BatchView) throws -> R) rethrows -> R {
    try values.withUnsafeBufferPointer { try body(BatchView($0, dimension: dimension)) }
  }

  /// Calls `body` with a writable view of the batch.
  @inlinable
  public mutating func withMutableView<R>(_ body: (MutableBatchView) throws -> R) rethrows -> R {
    let d = dimension
    return try values.withUnsafeMutableBufferPointer { try body(MutableBatchView($0, dimension: d)) }
  }
}
