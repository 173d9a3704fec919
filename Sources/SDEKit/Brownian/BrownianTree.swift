import CSIMDMath
import Foundation

/// One Brownian path per sample over [t0, t1] that can be queried over any interval [s, t] in
/// any order: W(t) − W(s) and the space–time integral, the same numbers whatever was asked
/// before. What an adaptive SDE solve needs, since a rejected step is retried over a shorter
/// interval of the same path (Gaines & Lyons 1997; diffrax's `VirtualBrownianTree`).
///
/// The interval is bisected `depth` times. The root's (ΔW, ΔZ) is drawn from the stream
/// `.brownianTree(node: 0)`; node i of depth k (heap number 2ᵏ + i) is split at its midpoint by
/// the exact conditional law of the left half given the whole, from two normals ζ₁, ζ₂ of the
/// stream `.brownianTree(node: 2ᵏ + i)`. With h the node's length and (W, Z) its increments,
///
/// ```
/// W_left = −W/4 + (3/2) Z/h + (√h/4) ζ₁
/// Z_left = −(h/8) W + Z/2 + (h^{3/2}/(8√3)) ζ₂
/// W_right = W − W_left,   Z_right = Z − Z_left − W_left·h/2
/// ```
///
/// Inside a leaf (length |t1 − t0|/2^depth) a time is placed by the conditional law of
/// (W, ∫W) at that fraction u of the leaf given the leaf's increments — the bridge of
/// `BrownianGrid`, from the leaf's own ζ (at u = ½ it is the split above). Every value is
/// therefore a function of the time alone: W(s, u) = W(s, t) + W(t, u) holds to rounding for any
/// s ≤ t ≤ u, and an interval's increments are exact in law at every resolution. Only two times
/// inside one leaf are not exact jointly (they share the leaf's ζ): the tree resolves the path
/// down to its leaf size, as diffrax's `tol`. A solve should not step below it
/// (`AdaptiveSDESettings` does not).
///
/// Noise conventions are SDEKit's: ΔZ = ∫ₛᵗ (W_r − W_s) dr, per Wiener process. The space–time
/// Lévy area H = ΔZ/h − ΔW/2 (Foster 2020; diffrax's `H`) is independent of ΔW with variance
/// h/12; ΔZ = h(ΔW/2 + H). Reverse-time problems (t1 < t0) run the path in τ = |t − t0|, as
/// every `BrownianSource`. Per row: sample r's path depends on (seed, r) only.
///
/// Queries are served by a `BrownianTree.Walker`, which keeps the nodes of its latest queries, so
/// that consecutive steps of a solve split only the nodes near their ends: a step of size h costs
/// about log₂(h / leaf size) node splits per row and Wiener process, each two normals.
/// Each split takes one Philox block per row and two Wiener processes (`nodeNormals`).
/// `fill` (the `BrownianSource` requirement, for fixed grids) makes a walker per call;
/// `solve(_:solver:grid:noise:)` with a tree keeps one per tile of rows across steps.
public struct BrownianTree: BrownianSource, Hashable {
  public let normals: NormalSource
  public let t0: Double
  public let t1: Double
  /// Bisection levels below the root: the leaves are |t1 − t0|/2^depth long.
  public let depth: Int

  /// The deepest tree the node numbering allows (heap numbers below 2³¹ in the stream's step word).
  public static let maximumDepth = 30

  /// A tree of `depth` levels over [t0, t1] (t1 < t0 for reverse time).
  /// - Throws: `SolveError.invalidConfiguration` for non-finite or equal ends, or a depth outside
  ///   0 ... `maximumDepth`.
  public init(seed: UInt64, t0: Double, t1: Double, depth: Int) throws {
    guard t0.isFinite, t1.isFinite, t0 != t1 else {
      throw SolveError.invalidConfiguration("a Brownian tree needs finite, distinct ends; got [\(t0), \(t1)]")
    }
    guard (0...Self.maximumDepth).contains(depth) else {
      throw SolveError.invalidConfiguration("a Brownian tree's depth must lie in 0...\(Self.maximumDepth), got \(depth)")
    }
    self.normals = NormalSource(seed: seed)
    self.t0 = t0
    self.t1 = t1
    self.depth = depth
  }

  /// The shallowest tree whose leaves are at most `tolerance` long (diffrax's `tol`).
  /// - Throws: `SolveError.invalidConfiguration` when `tolerance` is not positive or needs more
  ///   than `maximumDepth` levels.
  public init(seed: UInt64, t0: Double, t1: Double, tolerance: Double) throws {
    let span = abs(t1 - t0)
    guard tolerance > 0, tolerance.isFinite else {
      throw SolveError.invalidConfiguration("a Brownian tree's tolerance must be positive and finite, got \(tolerance)")
    }
    var levels = 0
    while span / Double(1 << levels) > tolerance && levels <= Self.maximumDepth { levels += 1 }
    guard levels <= Self.maximumDepth else {
      throw SolveError.invalidConfiguration(
        "a Brownian tree over an interval of length \(span) resolves at most \(span / Double(1 << Self.maximumDepth)) (\(Self.maximumDepth) levels); tolerance \(tolerance) is finer")
    }
    try self.init(seed: seed, t0: t0, t1: t1, depth: levels)
  }

  /// |t1 − t0|.
  public var span: Double { abs(t1 - t0) }
  /// The length of a leaf, |t1 − t0|/2^depth: the resolution of the path.
  public var leafSize: Double { span / Double(1 << depth) }

  /// Throws for times outside [t0, t1] or a step against the direction from t0 to t1.
  public func validate(times: [Double]) throws {
    try validateBrownianTimes(times, t0: t0, t1: t1, source: "a Brownian tree")
  }

  public func fill(rows: Range<Int>, width: Int, step: GridStep,
                   increments: UnsafeMutablePointer<Double>, spaceTime: UnsafeMutablePointer<Double>?) {
    fill(rows: rows, width: width, from: step.t, to: step.next, increments: increments, spaceTime: spaceTime)
  }

  /// ΔW = W(t) − W(s) and, when `spaceTime` is not nil, ΔZ = ∫ₛᵗ (W_r − W_s) dr for each row and
  /// Wiener process (row-major, `rows.count × width`). s and t lie in [t0, t1] with t not before
  /// s in the direction from t0 to t1. Rows are walked in groups of 32, each by a fresh walker.
  public func fill(rows: Range<Int>, width: Int, from s: Double, to t: Double,
                   increments: UnsafeMutablePointer<Double>, spaceTime: UnsafeMutablePointer<Double>?) {
    guard !rows.isEmpty else { return }
    let group = 32
    let walker = Walker(tree: self, capacity: min(group, rows.count), width: width)
    for first in stride(from: rows.lowerBound, to: rows.upperBound, by: group) {
      let part = first..<min(first + group, rows.upperBound)
      walker.reset(rows: part)
      let offset = (first - rows.lowerBound) * width
      walker.increments(from: s, to: t, into: increments + offset, spaceTime: spaceTime.map { $0 + offset })
    }
  }

  /// ΔW and the space–time Lévy area H = ΔZ/h − ΔW/2 over [s, t] for each row and Wiener
  /// process (row-major, `rows.count × width`), h = |t − s|. H is independent of ΔW, N(0, h/12).
  public func increments(rows: Range<Int>, width: Int, from s: Double, to t: Double)
    -> (w: [Double], levyArea: [Double]) {
    let n = rows.count * width
    var w = [Double](repeating: 0, count: n), z = w
    w.withUnsafeMutableBufferPointer { wp in
      z.withUnsafeMutableBufferPointer { zp in
        fill(rows: rows, width: width, from: s, to: t, increments: wp.baseAddress!, spaceTime: zp.baseAddress!)
      }
    }
    let h = abs(t - s)
    return (w, (0..<n).map { h > 0 ? z[$0] / h - 0.5 * w[$0] : 0 })
  }
}

// MARK: - Walker

extension BrownianTree {
  /// Queries on one tree for a group of rows (sample indices), keeping the nodes it has split:
  /// per level the two latest splits, and the normals of the two latest leaves. Queries that
  /// follow a solve's steps hit what the previous step left (the new step starts where the last
  /// ended). Answers do not depend on what is kept: a node's values are computed by the same
  /// operations from the same numbers whether it was kept or not. Not thread-safe; one per chunk.
  /// A class: its buffers are its state, so a copy could only share them and corrupt both.
  public final class Walker {
    public let tree: BrownianTree
    public let width: Int
    /// The most rows it can serve at once.
    public let capacity: Int
    /// The rows served now (sample indices).
    public private(set) var rows: Range<Int> = 0..<0

    /// Lanes: rows × width of the current rows.
    private var lanes = 0
    private let depth: Int
    /// Philox keyed by the seed and the tree's key tweak.
    private let generator: Philox4x32
    /// Every buffer below but the splits, in one allocation.
    private let storage: UnsafeMutableBufferPointer<Double>
    private var clock = 0

    /// The root's W and Z.
    private let rootW: UnsafeMutablePointer<Double>
    private let rootZ: UnsafeMutablePointer<Double>
    /// Level k ≥ 1, slot 0 or 1 (entry 2(k − 1) + slot): the split of node `parent` of level
    /// k − 1 into its two children, and when it was last used.
    private struct Split {
      var parent = -1
      var used = 0
      let leftW: UnsafeMutablePointer<Double>
      let leftZ: UnsafeMutablePointer<Double>
      let rightW: UnsafeMutablePointer<Double>
      let rightZ: UnsafeMutablePointer<Double>
    }
    private let splits: UnsafeMutablePointer<Split>
    /// The midpoint split's coefficients for a node of each level 0 ..< depth.
    private let splitCoefficients: [BridgeCoefficients]
    /// The bridge normals of two leaves (rows × 2·width, as `nodeNormals` writes them).
    private var leafIndex = (-1, -1)
    private var leafUsed = (0, 0)
    private let leafNormals: (UnsafeMutablePointer<Double>, UnsafeMutablePointer<Double>)
    /// Scratch: normals of a split, and two accumulators and a piece (W and Z each).
    private let zeta: UnsafeMutablePointer<Double>
    private let scratch: UnsafeMutablePointer<Double>

    /// A walker for up to `capacity` rows of `width` Wiener processes each.
    public init(tree: BrownianTree, capacity: Int, width: Int) {
      precondition(capacity >= 1 && width >= 1, "a walker needs at least one row and one Wiener process")
      self.tree = tree
      self.width = width
      self.capacity = capacity
      let depth = tree.depth
      self.depth = depth
      generator = NoiseStream.brownianTree(node: 0).generator(seed: tree.normals.seed)
      let n = capacity * width
      // Root 2, splits 4 per slot, leaves 2 × 2, scratch 2 + 3 × 2.
      let buffers = 2 + 8 * depth + 4 + 8
      let storage = VectorMath.allocateAligned(zeros: buffers * n)
      self.storage = storage
      var next = storage.baseAddress!
      func take(_ count: Int = 1) -> UnsafeMutablePointer<Double> {
        defer { next += count * n }
        return next
      }
      rootW = take()
      rootZ = take()
      let splitCount = 2 * depth
      let splits = UnsafeMutablePointer<Split>.allocate(capacity: max(1, splitCount))
      self.splits = splits
      for i in 0..<splitCount {
        (splits + i).initialize(to: Split(leftW: take(), leftZ: take(), rightW: take(), rightZ: take()))
      }
      leafNormals = (take(2), take(2))
      zeta = take(2)
      scratch = take(6)
      splitCoefficients = (0..<max(1, depth)).map { BridgeCoefficients(u: 0.5, h: tree.span / Double(1 << $0)) }
    }

    deinit {
      splits.deinitialize(count: 2 * depth)
      splits.deallocate()
      storage.deallocate()
    }

    /// Serves `rows` (at most `capacity` of them) from now on, forgetting every kept node.
    public func reset(rows: Range<Int>) {
      precondition(rows.count <= capacity, "a walker for \(capacity) rows cannot serve \(rows.count)")
      self.rows = rows
      lanes = rows.count * width
      for i in 0..<(2 * depth) { splits[i].parent = -1 }
      leafIndex = (-1, -1)
      guard !rows.isEmpty else { return }
      // The root: ΔW = √L ξ₁, ΔZ = c₁ξ₁ + c₂ξ₂.
      drawNormals(node: 0, into: zeta)
      let k = BrownianCoefficients(h: tree.span)
      let (rootW, rootZ, zeta) = (self.rootW, self.rootZ, self.zeta)
      forEachLane { e, first, second in
        rootW[e] = k.rootH * zeta[first]
        rootZ[e] = k.c1 * zeta[first] + k.c2 * zeta[second]
      }
    }

    /// ΔW and (when `spaceTime` is not nil) ΔZ over [s, t] for the current rows, row-major.
    public func increments(from s: Double, to t: Double, into increments: UnsafeMutablePointer<Double>,
                           spaceTime: UnsafeMutablePointer<Double>?) {
      let n = lanes
      let ps = position(s), pt = position(t)
      precondition(ps <= pt, "a Brownian tree is queried forward from t0 to t1; got \(s) then \(t)")
      if ps == pt {
        for e in 0..<n { increments[e] = 0 }
        if let spaceTime { for e in 0..<n { spaceTime[e] = 0 } }
        return
      }
      let leaves = 1 << depth, hLeaf = tree.leafSize
      let (ls, us) = place(ps, leaves: leaves), (lt, ut) = place(pt, leaves: leaves)
      let (aW, aZ, bW, bZ, pW, pZ) = (scratch, scratch + n, scratch + 2 * n, scratch + 3 * n, scratch + 4 * n,
                                      scratch + 5 * n)
      if ls == lt {
        // Both inside one leaf: the difference of the path's places at ut and us.
        let (leafW, leafZ) = node(depth, ls)
        let zeta = normals(ofLeaf: ls)
        leftPart(leafW, leafZ, zeta: zeta, u: ut, into: aW, aZ)
        leftPart(leafW, leafZ, zeta: zeta, u: us, into: bW, bZ)
        let gap = (ut - us) * hLeaf
        for e in 0..<n {
          increments[e] = aW[e] - bW[e]
          spaceTime?[e] = aZ[e] - bZ[e] - bW[e] * gap
        }
        return
      }
      // The highest bit in which the two leaves differ: the deepest node holding both is at
      // depth − b − 1; s lies in its left half, t in its right half (t = t1 is leaf 2^depth:
      // then the node above the root, whose left half is the whole interval).
      let b = Int.bitWidth - (ls ^ lt).leadingZeroBitCount - 1
      let shallowest = depth - b + 1

      // [s, midpoint]: the rest of s's leaf (or, when s starts a node, that whole node), then
      // the right siblings of s's path, small to large.
      var start = depth
      if us == 0 {
        let whole = min(ls.trailingZeroBitCount, b)
        start = depth - whole
        let (w, z) = node(start, ls >> whole)
        copy(w, z, into: aW, aZ)
      } else {
        let (leafW, leafZ) = node(depth, ls)
        leftPart(leafW, leafZ, zeta: normals(ofLeaf: ls), u: us, into: pW, pZ)
        let rest = (1 - us) * hLeaf
        for e in 0..<n {
          aW[e] = leafW[e] - pW[e]
          aZ[e] = leafZ[e] - pZ[e] - pW[e] * rest
        }
      }
      var level = start
      while level >= shallowest {
        let index = ls >> (depth - level)
        if index & 1 == 0 {
          let (w, z) = node(level, index + 1)
          append(w, z, length: tree.span / Double(1 << level), to: aW, aZ)
        }
        level -= 1
      }

      // [midpoint, t]: the left siblings of t's path, large to small, then the start of t's
      // leaf. Below the level where t starts a node, t's path has no left siblings.
      for e in 0..<n {
        bW[e] = 0
        bZ[e] = 0
      }
      var lengthB = 0.0
      let deepest = ut == 0 ? depth - min(lt.trailingZeroBitCount, depth) : depth
      if shallowest <= deepest {
        for level in shallowest...deepest {
          let index = lt >> (depth - level)
          if index & 1 == 1 {
            let (w, z) = node(level, index - 1)
            let size = tree.span / Double(1 << level)
            append(w, z, length: size, to: bW, bZ)
            lengthB += size
          }
        }
      }
      if ut > 0 {
        let (leafW, leafZ) = node(depth, lt)
        leftPart(leafW, leafZ, zeta: normals(ofLeaf: lt), u: ut, into: pW, pZ)
        append(pW, pZ, length: ut * hLeaf, to: bW, bZ)
        lengthB += ut * hLeaf
      }
      // Whole = [s, midpoint] followed by [midpoint, t].
      for e in 0..<n {
        increments[e] = aW[e] + bW[e]
        spaceTime?[e] = aZ[e] + bZ[e] + aW[e] * lengthB
      }
    }

    // MARK: Places and pieces

    /// Where t lies from t0 towards t1, as a fraction of the span in [0, 1].
    private func position(_ t: Double) -> Double {
      min(1, max(0, (t - tree.t0) / (tree.t1 - tree.t0)))
    }

    /// The leaf a position lies in and how far into it (u ∈ [0, 1)); position 1 is leaf
    /// 2^depth at u = 0, just past the last leaf.
    private func place(_ p: Double, leaves: Int) -> (leaf: Int, u: Double) {
      let x = p * Double(leaves)  // exact: a power of two
      let leaf = Int(x)
      return (leaf, x - Double(leaf))
    }

    /// (W, Z) of the part of a leaf before the fraction u of it, from the leaf's (W, Z) and ζ:
    /// the conditional law of `BrownianCoefficients`' bridge (see `BrownianGrid`).
    private func leftPart(_ w: UnsafePointer<Double>, _ z: UnsafePointer<Double>, zeta: UnsafePointer<Double>,
                          u: Double, into outW: UnsafeMutablePointer<Double>, _ outZ: UnsafeMutablePointer<Double>) {
      if u == 0 {
        for e in 0..<lanes {
          outW[e] = 0
          outZ[e] = 0
        }
        return
      }
      let c = BridgeCoefficients(u: u, h: tree.leafSize)
      forEachLane { e, first, second in
        outW[e] = c.wW * w[e] + c.wZ * z[e] + c.w1 * zeta[first]
        outZ[e] = c.zW * w[e] + c.zZ * z[e] + c.z1 * zeta[first] + c.z2 * zeta[second]
      }
    }

    private func copy(_ w: UnsafePointer<Double>, _ z: UnsafePointer<Double>,
                      into outW: UnsafeMutablePointer<Double>, _ outZ: UnsafeMutablePointer<Double>) {
      for e in 0..<lanes {
        outW[e] = w[e]
        outZ[e] = z[e]
      }
    }

    /// (W, Z) of a run of length `length` followed by a piece of length `size`:
    /// W += W_piece, Z += Z_piece + W·size.
    private func append(_ w: UnsafePointer<Double>, _ z: UnsafePointer<Double>, length size: Double,
                        to accW: UnsafeMutablePointer<Double>, _ accZ: UnsafeMutablePointer<Double>) {
      for e in 0..<lanes {
        accZ[e] = accZ[e] + z[e] + accW[e] * size
        accW[e] = accW[e] + w[e]
      }
    }

    /// Calls body(lane, index of ζ₁, index of ζ₂) for every lane: lane e = r·width + j takes
    /// numbers j and width + j of row r (rows × 2·width, row-major).
    @inline(__always)
    private func forEachLane(_ body: (Int, Int, Int) -> Void) {
      for r in 0..<rows.count {
        for j in 0..<width { body(r * width + j, 2 * r * width + j, 2 * r * width + width + j) }
      }
    }

    // MARK: Nodes

    /// (W, Z) of node `index` of level `level`, from the kept splits or by splitting its parent
    /// (found the same way); level 0 is the root (the only leaf of a tree of depth 0). The
    /// pointers stay valid until the next split of that level replaces the slot.
    private func node(_ level: Int, _ index: Int) -> (UnsafePointer<Double>, UnsafePointer<Double>) {
      if level == 0 { return (UnsafePointer(rootW), UnsafePointer(rootZ)) }
      let parent = index >> 1
      clock += 1
      var slot = 2 * (level - 1)
      if splits[slot].parent != parent {
        if splits[slot + 1].parent == parent {
          slot += 1
        } else {
          // Replace the slot used longer ago.
          if splits[slot + 1].used < splits[slot].used { slot += 1 }
          let (w, z) = node(level - 1, parent)
          split(w, z, node: (1 << (level - 1)) + parent, level: level - 1, into: splits[slot])
          splits[slot].parent = parent
        }
      }
      splits[slot].used = clock
      let s = splits[slot]
      return index & 1 == 0 ? (UnsafePointer(s.leftW), UnsafePointer(s.leftZ))
                            : (UnsafePointer(s.rightW), UnsafePointer(s.rightZ))
    }

    /// Splits a node of level `level` (length span/2^level) with increments (w, z) at its
    /// midpoint, from the normals of heap node `node`.
    private func split(_ w: UnsafePointer<Double>, _ z: UnsafePointer<Double>, node: Int, level: Int, into s: Split) {
      drawNormals(node: node, into: zeta)
      let c = splitCoefficients[level]
      let half = 0.5 * (tree.span / Double(1 << level))
      let zeta = self.zeta
      forEachLane { e, first, second in
        let leftW = c.wW * w[e] + c.wZ * z[e] + c.w1 * zeta[first]
        let leftZ = c.zW * w[e] + c.zZ * z[e] + c.z1 * zeta[first] + c.z2 * zeta[second]
        s.leftW[e] = leftW
        s.leftZ[e] = leftZ
        s.rightW[e] = w[e] - leftW
        s.rightZ[e] = z[e] - leftZ - leftW * half
      }
    }

    /// The bridge normals of leaf `leaf`, kept for the two latest leaves.
    private func normals(ofLeaf leaf: Int) -> UnsafePointer<Double> {
      clock += 1
      if leafIndex.0 == leaf {
        leafUsed.0 = clock
        return UnsafePointer(leafNormals.0)
      }
      if leafIndex.1 == leaf {
        leafUsed.1 = clock
        return UnsafePointer(leafNormals.1)
      }
      if leafUsed.1 < leafUsed.0 {
        drawNormals(node: (1 << depth) + leaf, into: leafNormals.1)
        (leafIndex.1, leafUsed.1) = (leaf, clock)
        return UnsafePointer(leafNormals.1)
      }
      drawNormals(node: (1 << depth) + leaf, into: leafNormals.0)
      (leafIndex.0, leafUsed.0) = (leaf, clock)
      return UnsafePointer(leafNormals.0)
    }

    /// Normals 0 ..< 2·width of tree node `node` for each current row (rows × 2·width): eight rows
    /// at a time through the eight-lane Philox (the rows in the counter's last two words, one
    /// per lane), the rest one row at a time; the same numbers either way (`nodeNormals`).
    private func drawNormals(node: Int, into out: UnsafeMutablePointer<Double>) {
      let count = 2 * width
      var first = rows.lowerBound
      while first + 8 <= rows.upperBound {
        tree.nodeNormals(node: node, rows: first, count: count, generator: generator,
                         into: out + (first - rows.lowerBound) * count)
        first += 8
      }
      for row in first..<rows.upperBound {
        tree.nodeNormals(node: node, row: row, count: count, generator: generator,
                         into: out + (row - rows.lowerBound) * count)
      }
    }
  }
}

/// The conditional law of the part [0, u·h] of an interval of length h given the interval's
/// (W, Z), with two standard normals ζ₁, ζ₂:
///
/// ```
/// W_u = wW·W + wZ·Z + w1·ζ₁,   Z_u = zW·W + zZ·Z + z1·ζ₁ + z2·ζ₂
/// ```
///
/// In units of the interval (W ∝ √h, Z ∝ h^{3/2}) the means are (3u² − 2u)w + (6u − 6u²)z and
/// (u³ − u²)w + (3u² − 2u³)z and the noise is the Cholesky factor L of the conditional
/// covariance, C₁₁ = u(1 − u)(1 − 3u + 3u²), C₁₂ = ½u²(1 − u)²(1 − 2u), det C = u⁴(1 − u)⁴/12
/// (from Cov(W_r, W_q) = min(r, q)).
struct BridgeCoefficients {
  let wW: Double, wZ: Double, w1: Double
  let zW: Double, zZ: Double, z1: Double, z2: Double

  init(u: Double, h: Double) {
    let unit = UnitBridge(u: u), rootH = h.squareRoot()
    wW = unit.wW
    wZ = unit.wZ / h
    w1 = rootH * unit.w1
    zW = unit.zW * h
    zZ = unit.zZ
    z1 = h * rootH * unit.z1
    z2 = h * rootH * unit.z2
  }
}

/// `BridgeCoefficients` in units of the interval (h = 1), what `BrownianGrid.addPiece` applies
/// to increments it keeps in those units: the means' coefficients and the Cholesky factor L.
struct UnitBridge {
  let wW: Double, wZ: Double, w1: Double
  let zW: Double, zZ: Double, z1: Double, z2: Double

  init(u: Double) {
    let v = 1 - u
    let c11 = u * v * (1 - 3 * u + 3 * u * u), c12 = 0.5 * u * u * v * v * (1 - 2 * u)
    w1 = c11.squareRoot()
    z1 = c12 / w1
    z2 = (u * u * u * v * v * v / (12 * (1 - 3 * u + 3 * u * u))).squareRoot()
    wW = 3 * u * u - 2 * u
    wZ = 6 * u * v
    zW = u * u * u - u * u
    zZ = 3 * u * u - 2 * u * u * u
  }
}

extension BrownianTree {
  /// `nodeNormals(node:row:…)` for the eight rows `first ..< first + 8`, written row after row
  /// (`count` each): one eight-lane Philox call per block, lane ℓ the block of row first + ℓ.
  func nodeNormals(node: Int, rows first: Int, count: Int, generator: Philox4x32, into output: UnsafeMutablePointer<Double>) {
    let step = UInt32(truncatingIfNeeded: node)
    let rows = SIMD8<UInt64>(0, 1, 2, 3, 4, 5, 6, 7) &+ UInt64(first)
    let rowLow = rows & 0xFFFF_FFFF, rowHigh = rows &>> 32
    let ziggurat = Ziggurat.shared
    var index = 0
    while index < count {
      let words = generator.blocks(UInt32(index >> 2), step, rowLow, rowHigh)
      for j in 0..<min(4, count - index) {
        let word = j == 0 ? words.0 : j == 1 ? words.1 : j == 2 ? words.2 : words.3
        var rejected: Int32 = 0
        let values = sdekit_ziggurat_candidates8(word, ziggurat.layerTable, &rejected)
        for lane in 0..<8 {
          output[lane * count + index + j] = rejected & (1 << lane) == 0 ? values[lane]
            : ziggurat.resolve(word: UInt32(truncatingIfNeeded: word[lane]), generator: generator, row: first + lane,
                               step: step, index: UInt32(index + j))
        }
      }
      index += 4
    }
  }

  /// Normals 0 ..< `count` of tree node `node` for sample `row`: number i is the ziggurat
  /// number of word i mod 4 of the Philox block at counter (⌊i/4⌋, node, row mod 2³², ⌊row/2³²⌋)
  /// under the key of `.brownianTree` (its step word is the node), finished from further blocks
  /// of the same address as every SDEKit normal (`Ziggurat.resolve`). A row's four numbers share
  /// one block: a per-sample solve splits nodes one row at a time, and `NormalSource`'s layout
  /// (one block per number and quad of rows) would cost it two to four blocks per split.
  @inline(__always)
  func nodeNormals(node: Int, row: Int, count: Int, generator: Philox4x32, into output: UnsafeMutablePointer<Double>) {
    let step = UInt32(truncatingIfNeeded: node)
    let rowLow = UInt32(truncatingIfNeeded: row), rowHigh = UInt32(truncatingIfNeeded: row >> 32)
    let ziggurat = Ziggurat.shared
    var index = 0
    while index < count {
      let block = generator.block(UInt32(index >> 2), step, rowLow, rowHigh)
      for j in 0..<min(4, count - index) {
        let word = j == 0 ? block.0 : j == 1 ? block.1 : j == 2 ? block.2 : block.3
        // The candidate accepted at once (99.6 %) here; `resolve` repeats this test and finishes
        // the rest, so the bits are its bits.
        let layer = Int(word) & (Ziggurat.layers - 1)
        let x = (Double(word >> UInt32(Ziggurat.layerBits)) - Ziggurat.latticeCentre) * ziggurat.step(layer)
        output[index + j] = abs(x) < ziggurat.inner(layer)
          ? x : ziggurat.resolve(word: word, generator: generator, row: row, step: step, index: UInt32(index + j))
      }
      index += 4
    }
  }
}
