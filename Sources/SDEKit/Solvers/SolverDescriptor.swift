/// What a solver promises, as data: the CLI lists it, `solve` checks problems against it, and
/// the convergence tests assert its orders as measured slopes.
public struct SolverDescriptor: Sendable, Codable, Hashable {
  public enum Kind: String, Sendable, Codable { case ode, sde }

  /// Convergence orders for one noise structure (`noise == nil` for an ODE solver, whose
  /// strong and weak orders are both its classical order).
  public struct Order: Sendable, Codable, Hashable {
    public var noise: NoiseStructure?
    public var strong: Double
    public var weak: Double

    public init(noise: NoiseStructure?, strong: Double, weak: Double) {
      self.noise = noise
      self.strong = strong
      self.weak = weak
    }
  }

  /// The command-line name, kebab-case (`euler-maruyama`).
  public var name: String
  /// One line for listings.
  public var summary: String
  public var kind: Kind
  /// The calculus an SDE solver converges to; nil for ODE solvers.
  public var calculus: Calculus?
  /// One entry per supported noise structure (SDE) or a single entry with `noise == nil` (ODE).
  public var orders: [Order]
  /// Drift evaluations per step (for an ODE solver: vector-field evaluations).
  public var driftEvaluationsPerStep: Int
  /// Diffusion evaluations per step, the Milstein coefficient (∂g/∂x)·g included.
  public var diffusionEvaluationsPerStep: Int
  /// Whether the method needs (∂g/∂x)·g from the diffusion for non-additive noise.
  public var needsDerivative: Bool
  /// Whether the method needs ΔZ = ∫(W_s − W_t) ds besides ΔW.
  public var needsSpaceTimeIntegral: Bool
  /// Whether the method chooses its own step sizes.
  public var isAdaptive: Bool
  /// Whether an ODE method needs the Jacobian ∂F/∂y (implicit methods).
  public var needsJacobian: Bool
  /// How an adaptive SDE solve (`solve(_:solver:settings:noise:)`) estimates this SDE method's
  /// local error; nil for ODE methods.
  public var errorEstimate: SDEErrorEstimate?

  public init(name: String, summary: String, kind: Kind, calculus: Calculus?, orders: [Order],
              driftEvaluationsPerStep: Int, diffusionEvaluationsPerStep: Int = 0,
              needsDerivative: Bool = false, needsSpaceTimeIntegral: Bool = false,
              isAdaptive: Bool = false, needsJacobian: Bool = false, errorEstimate: SDEErrorEstimate? = nil) {
    self.name = name
    self.summary = summary
    self.kind = kind
    self.calculus = calculus
    self.orders = orders
    self.driftEvaluationsPerStep = driftEvaluationsPerStep
    self.diffusionEvaluationsPerStep = diffusionEvaluationsPerStep
    self.needsDerivative = needsDerivative
    self.needsSpaceTimeIntegral = needsSpaceTimeIntegral
    self.isAdaptive = isAdaptive
    self.needsJacobian = needsJacobian
    self.errorEstimate = errorEstimate ?? (kind == .sde ? .stepDoubling : nil)
  }

  /// The noise structures an SDE solver supports, in declaration order.
  public var noiseStructures: [NoiseStructure] { orders.compactMap(\.noise) }

  /// The declared orders for `noise` (nil: unsupported); for an ODE solver pass nil.
  public func order(for noise: NoiseStructure?) -> Order? {
    orders.first { $0.noise == noise }
  }
}

/// Stage buffers for one chunk of rows, allocated once per solve and reused by every step.
public final class SolverWorkspace: @unchecked Sendable {
  /// `count` buffers of `rows × dimension` doubles each.
  public let buffers: [UnsafeMutableBufferPointer<Double>]
  public let rows: Int
  public let dimension: Int

  public init(buffers count: Int, rows: Int, dimension: Int) {
    self.rows = rows
    self.dimension = dimension
    self.buffers = (0..<count).map { _ in VectorMath.allocateAligned(zeros: rows * dimension) }
  }

  deinit {
    for buffer in buffers { buffer.deallocate() }
  }

  @inlinable
  public subscript(index: Int) -> UnsafeMutableBufferPointer<Double> { buffers[index] }
}

/// The Brownian noise of one step, one value per state element (`rows × dimension`; scalar
/// noise is repeated across a row's components before the solver sees it).
public struct StepNoise {
  /// ΔW per element.
  public let increments: UnsafeBufferPointer<Double>
  /// ΔZ = ∫(W_s − W_t) ds per element, when the solver asked for it.
  public let spaceTime: UnsafeBufferPointer<Double>?
  /// |h|, the step size that scales the noise.
  public let absStep: Double

  public init(increments: UnsafeBufferPointer<Double>, spaceTime: UnsafeBufferPointer<Double>?,
              absStep: Double) {
    self.increments = increments
    self.spaceTime = spaceTime
    self.absStep = absStep
  }
}

/// A fixed-step method for SDEs. The struct holds settings only; buffers live in the workspace.
public protocol SDESolver: Sendable {
  var descriptor: SolverDescriptor { get }

  /// Buffers for a chunk of `rows` rows.
  func makeWorkspace(rows: Int, dimension: Int) -> SolverWorkspace

  /// Advances `x` (rows × dimension) from t to t + h in place. `h` is signed (negative in
  /// reverse time); the noise is scaled by |h|. Allocates nothing.
  func step<F: Drift, G: Diffusion>(
    drift: F, diffusion: G, x: UnsafeMutableBufferPointer<Double>, t: Double, h: Double,
    noise: StepNoise, dimension: Int, workspace: SolverWorkspace)
}

/// A fixed-step method for ODEs. The struct holds settings only; buffers live in the workspace.
public protocol ODESolver: Sendable {
  var descriptor: SolverDescriptor { get }

  func makeWorkspace(rows: Int, dimension: Int) -> SolverWorkspace

  /// Advances `y` (rows × dimension) from t to t + h in place (h < 0 in reverse time).
  func step<F: VectorField>(
    field: F, y: UnsafeMutableBufferPointer<Double>, t: Double, h: Double, dimension: Int,
    workspace: SolverWorkspace)
}
