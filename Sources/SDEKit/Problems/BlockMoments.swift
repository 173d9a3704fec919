/// Means and unbiased variances of per-row values (`width` of them per row), the same bits for
/// any split of the rows: what a convergence study or a comparison needs to give one process's
/// numbers when its rows are spread over processes.
///
/// The values are taken per block of `blockRows` rows (by row index: block b holds rows
/// b·blockRows ..< (b + 1)·blockRows), each block's mean and Σ(x − mean)² computed in row order,
/// and the blocks merged in one binary tree whose shape depends only on the row count (Chan,
/// Golub & LeVeque's pairwise update). So the result does not depend on the chunks the rows
/// arrive in, nor on how they are split between processes as long as each process's rows start
/// at a block boundary: each one's `partial` holds its complete subtrees, and `init(merging:)`
/// finishes the same tree.
public struct BlockMoments: Sendable {
  /// Rows per leaf of the tree. A process's rows must start at a multiple of it.
  public static let blockRows = 4_096

  /// Values per row.
  public let width: Int
  /// Rows in closed blocks.
  private var closedRows = 0
  /// The row index of the first row.
  private let firstRow: Int
  /// The values of the block being filled, row-major.
  private var pending: [Double] = []
  /// Complete subtrees, left to right; adjacent siblings are merged as soon as both exist.
  private var nodes: [Node] = []

  /// Moments of rows taken in order from `firstRow`, a multiple of `blockRows`.
  public init(width: Int, firstRow: Int = 0) {
    precondition(width >= 1, "BlockMoments needs at least one value per row")
    precondition(firstRow >= 0 && firstRow % Self.blockRows == 0, "BlockMoments: rows start at a block boundary")
    self.width = width
    self.firstRow = firstRow
  }

  /// Takes in the next rows: `values` holds `values.count / width` rows of `width` values.
  public mutating func add<C: Collection<Double>>(_ values: C) {
    precondition(values.count % width == 0, "BlockMoments.add: \(values.count) values are not whole rows of \(width)")
    for value in values {
      pending.append(value)
      if pending.count == Self.blockRows * width { closeBlock() }
    }
  }

  /// Summarises the pending rows as the next leaf and merges it into the tree.
  private mutating func closeBlock() {
    let n = pending.count / width
    guard n > 0 else { return }
    var sum = [Double](repeating: 0, count: width)
    for r in 0..<n { for j in 0..<width { sum[j] += pending[r * width + j] } }
    let mean = sum.map { $0 / Double(n) }
    var squares = [Double](repeating: 0, count: width)
    for r in 0..<n {
      for j in 0..<width {
        let deviation = pending[r * width + j] - mean[j]
        squares[j] += deviation * deviation
      }
    }
    let index = (firstRow + closedRows) / Self.blockRows
    closedRows += n
    pending.removeAll(keepingCapacity: true)
    Self.push(Node(level: 0, index: index, count: n, mean: mean, squares: squares), onto: &nodes)
  }

  /// Appends a subtree and merges siblings: the binary counter that builds the one tree.
  private static func push(_ node: Node, onto nodes: inout [Node]) {
    nodes.append(node)
    while nodes.count >= 2 {
      let right = nodes[nodes.count - 1], left = nodes[nodes.count - 2]
      guard left.level == right.level, left.index % 2 == 0, right.index == left.index + 1 else { break }
      nodes.removeLast(2)
      nodes.append(Node(merging: left, right, level: left.level + 1, index: left.index / 2))
    }
  }

  /// The subtrees with the pending rows closed as a leaf.
  private var closed: BlockMoments {
    var copy = self
    copy.closeBlock()
    return copy
  }

  /// The root: complete subtrees merged right to left (the tree of a row count that is not a
  /// power-of-two multiple of the block).
  private var root: Node? {
    let nodes = closed.nodes
    guard var root = nodes.last else { return nil }
    for node in nodes.dropLast().reversed() { root = Node(merging: node, root, level: node.level + 1, index: 0) }
    return root
  }

  /// Rows taken in so far.
  public var count: Int { closedRows + pending.count / width }

  /// The mean of each value over the rows (zeros before any row).
  public var mean: [Double] { root?.mean ?? [Double](repeating: 0, count: width) }

  /// The unbiased variance of each value over the rows (zeros with fewer than two rows).
  public var variance: [Double] {
    guard let root, root.count > 1 else { return [Double](repeating: 0, count: width) }
    return root.squares.map { $0 / Double(root.count - 1) }
  }

  // MARK: - Across processes

  /// What this process's rows contribute, as plain numbers to send to another: the first row,
  /// the row count and the complete subtrees (pending rows closed as a leaf, so only the last
  /// process's rows may end off a block boundary).
  public var partial: [Double] {
    let copy = closed
    var out = [Double(firstRow), Double(copy.closedRows), Double(copy.nodes.count)]
    for node in copy.nodes { out += [Double(node.level), Double(node.index), Double(node.count)] + node.mean + node.squares }
    return out
  }

  /// The moments of all rows from the `partial`s of processes that took consecutive row ranges
  /// from 0, in order: the same tree, so the same bits, as one process that saw every row.
  /// - Throws: `SolveError.invalidConfiguration` when a partial is cut short, holds a count,
  ///   level or index that is not a whole number in range, or the ranges are not consecutive.
  public init(width: Int, merging partials: [[Double]]) throws {
    self.init(width: width)
    // Counts up to 2⁵³ (what a Double holds exactly): sums of two stay far from Int's limit, and
    // levels below 62 keep index·2^level in range.
    let counts = 0...(1 << 53), levels = 0...61
    var subtreeRows = 0
    for values in partials {
      var position = 0
      func take(_ n: Int) throws -> ArraySlice<Double> {
        guard n >= 0, position + n <= values.count else {
          throw SolveError.invalidConfiguration("a moments partial is cut short (\(values.count) numbers)")
        }
        defer { position += n }
        return values[position..<(position + n)]
      }
      func integer(_ value: Double, _ what: String, in range: ClosedRange<Int>) throws -> Int {
        guard let n = Int(exactly: value), range.contains(n) else {
          throw SolveError.invalidConfiguration(
            "a moments partial's \(what) must be a whole number in \(range.lowerBound)...\(range.upperBound), got \(value)")
        }
        return n
      }
      let header = try take(3)
      let first = try integer(header[header.startIndex], "first row", in: counts)
      let rows = try integer(header[header.startIndex + 1], "row count", in: counts)
      let nodeCount = try integer(header[header.startIndex + 2], "subtree count", in: counts)
      guard first == closedRows else {
        throw SolveError.invalidConfiguration("moments partials must cover consecutive rows from 0; got rows from \(first) after \(closedRows)")
      }
      for _ in 0..<nodeCount {
        let shape = try take(3)
        let level = try integer(shape[shape.startIndex], "subtree level", in: levels)
        let index = try integer(shape[shape.startIndex + 1], "subtree index", in: 0...(counts.upperBound >> level))
        let count = try integer(shape[shape.startIndex + 2], "subtree row count", in: 1...counts.upperBound)
        subtreeRows += count
        guard subtreeRows <= counts.upperBound else {
          throw SolveError.invalidConfiguration("moments partials hold subtrees of more than \(counts.upperBound) rows")
        }
        let mean = Array(try take(width)), squares = Array(try take(width))
        Self.push(Node(level: level, index: index, count: count, mean: mean, squares: squares), onto: &nodes)
      }
      guard closedRows + rows <= counts.upperBound else {
        throw SolveError.invalidConfiguration("moments partials cover more than \(counts.upperBound) rows")
      }
      closedRows += rows
    }
  }

  /// A subtree: the rows of blocks index·2^level ..< (index + 1)·2^level, their count, mean and
  /// Σ(x − mean)² of each value.
  private struct Node: Sendable {
    var level: Int
    var index: Int
    var count: Int
    var mean: [Double]
    var squares: [Double]

    init(level: Int, index: Int, count: Int, mean: [Double], squares: [Double]) {
      (self.level, self.index, self.count, self.mean, self.squares) = (level, index, count, mean, squares)
    }

    /// Chan, Golub & LeVeque's update: the moments of the rows of `left` and `right` together.
    init(merging left: Node, _ right: Node, level: Int, index: Int) {
      let total = Double(left.count + right.count)
      let weight = Double(left.count) * Double(right.count) / total
      var mean = left.mean, squares = left.squares
      for j in mean.indices {
        let delta = right.mean[j] - left.mean[j]
        mean[j] = left.mean[j] + delta * Double(right.count) / total
        squares[j] = left.squares[j] + right.squares[j] + delta * delta * weight
      }
      self.init(level: level, index: index, count: left.count + right.count, mean: mean, squares: squares)
    }
  }
}
