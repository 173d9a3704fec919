/// An SDE with a known solution, started from one state shared by every path: what the
/// convergence tools and the tests measure solvers against.
public protocol SDETestProblem: Sendable {
  associatedtype DriftType: Drift
  associatedtype DiffusionType: Diffusion

  var drift: DriftType { get }
  var diffusion: DiffusionType { get }
  /// The initial state of every path.
  var initialState: [Double] { get }
  var t0: Double { get }
  var t1: Double { get }
  var calculus: Calculus { get }

  /// The exact X(t1) of each path from its Brownian increment W(t1) − W(t0) (rows × noise
  /// width), or nil when the solution is not a function of W(t1) alone.
  func exactSolution(brownian: StateBatch) -> StateBatch?

  /// The exact mean E X(t1), or nil when unknown.
  var exactMean: [Double]? { get }

  /// E X(t1)² of a one-dimensional problem, or nil when unknown (the default).
  var exactSecondMoment: Double? { get }
}

extension SDETestProblem {
  public var calculus: Calculus { .ito }

  public var exactSecondMoment: Double? { nil }

  /// The problem with `paths` copies of the initial state.
  public func problem(paths: Int) -> SDEProblem<DriftType, DiffusionType> {
    SDEProblem(drift: drift, diffusion: diffusion,
               initial: StateBatch(count: paths, repeatingRow: initialState),
               t0: t0, t1: t1, calculus: calculus)
  }
}

/// An ODE with a known solution, started from one state.
public protocol ODETestProblem: Sendable {
  associatedtype FieldType: VectorField

  var field: FieldType { get }
  var initialState: [Double] { get }
  var t0: Double { get }
  var t1: Double { get }
  /// The exact y(t1), or nil when there is no closed form (studies then use a reference).
  var exactFinalState: [Double]? { get }
  /// Whether the problem is stiff (references and suggestions use an implicit method).
  var isStiff: Bool { get }
}

extension ODETestProblem {
  public var isStiff: Bool { false }

  public func problem(copies: Int = 1) -> ODEProblem<FieldType> {
    ODEProblem(field: field, initial: StateBatch(count: copies, repeatingRow: initialState),
               t0: t0, t1: t1)
  }
}
