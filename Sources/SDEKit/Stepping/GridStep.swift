/// One step of a time grid, as the driver hands it to a stepper and a stepper to its noise
/// source: which step it is, and the times it joins.
public struct GridStep: Sendable, Hashable {
  /// The step's index, 0 ..< `count`.
  public let index: Int
  /// How many steps the grid has.
  public let count: Int
  /// Where the step starts.
  public let t: Double
  /// Where the step ends (below `t` in reverse time).
  public let next: Double

  @inlinable
  public init(index: Int, count: Int, t: Double, next: Double) {
    self.index = index
    self.count = count
    self.t = t
    self.next = next
  }

  /// The signed step size next − t.
  @inlinable public var h: Double { next - t }
  /// |next − t|, the variance of a Brownian increment over the step.
  @inlinable public var size: Double { abs(next - t) }
  /// Whether this is the grid's last step.
  @inlinable public var isLast: Bool { index == count - 1 }
}
