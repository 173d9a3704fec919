/// How the noise enters an SDE dx = f(x,t) dt + g(x,t) dW.
public enum NoiseStructure: String, Sendable, Codable, CaseIterable, CustomStringConvertible {
  /// g depends on t only, one independent Wiener process per component: g_i(t) dW_i.
  /// Every diffusion-model SDE is of this kind. Itô and Stratonovich calculus coincide.
  case additive
  /// One independent Wiener process per component, g_i(x_i, t) dW_i (e.g. geometric
  /// Brownian motion in several dimensions).
  case diagonal
  /// One Wiener process per sample shared by all components: g_i(x, t) dW.
  case scalar

  public var description: String { rawValue }
}

/// The stochastic calculus an SDE is written in, or that a solver converges to.
public enum Calculus: String, Sendable, Codable, CustomStringConvertible {
  case ito = "Itô"
  case stratonovich = "Stratonovich"

  public var description: String { rawValue }
}

/// The drift f(x, t) of an SDE, evaluated on a batch of rows.
///
/// `x` and `output` are views of `rows × dimension` values, row-major; rows are independent
/// samples. The solver owns both buffers; an implementation must write every element of
/// `output` and must not keep either view beyond the call.
public protocol Drift: Sendable {
  func drift(_ x: BatchView, t: Double, into output: MutableBatchView)
}

/// The diffusion g of an SDE, evaluated on a batch of rows.
///
/// `output` receives `rows × dimension` values g_i for every structure: for additive and
/// diagonal noise component i is multiplied by its own increment dW_i, for scalar noise every
/// component of a row is multiplied by the row's single dW.
public protocol Diffusion: Sendable {
  /// The structure of the noise; solvers check it against what they support.
  var noise: NoiseStructure { get }

  func diffusion(_ x: BatchView, t: Double, into output: MutableBatchView)

  /// g(t) when every component of every row has that one value (additive noise g(t)·I, as in
  /// every diffusion-model SDE), else nil. A solver may then multiply by it instead of filling a
  /// buffer with `diffusion` and reading it back; the bits are the same.
  func uniformValue(t: Double) -> Double?

  /// Whether `derivativeProduct` is implemented (Milstein's method needs it).
  var providesDerivative: Bool { get }

  /// The Milstein coefficient L¹g = (∂g/∂x)·g: for diagonal noise g_i ∂g_i/∂x_i, for scalar
  /// noise Σ_j g_j ∂g_i/∂x_j. Only called when `providesDerivative` is true.
  func derivativeProduct(_ x: BatchView, t: Double, into output: MutableBatchView)
}

extension Diffusion {
  public func uniformValue(t: Double) -> Double? { nil }

  public var providesDerivative: Bool { false }

  public func derivativeProduct(_ x: BatchView, t: Double, into output: MutableBatchView) {
    preconditionFailure("\(Self.self) does not provide ∂g/∂x; check providesDerivative first")
  }
}

/// The right-hand side y' = F(y, t) of an ODE, evaluated on a batch of rows.
public protocol VectorField: Sendable {
  func evaluate(_ y: BatchView, t: Double, into output: MutableBatchView)
}

/// A vector field that also provides its Jacobian, for implicit ODE methods.
///
/// Rows are independent samples, so the Jacobian of the batch is block diagonal: one
/// `dimension × dimension` block ∂F_i/∂y_j per row, row-major within the block.
public protocol JacobianField: VectorField {
  /// Writes the blocks (rows × dimension × dimension values) and ∂F/∂t (rows × dimension).
  func jacobian(_ y: BatchView, t: Double, blocks: UnsafeMutableBufferPointer<Double>,
                timeDerivative: MutableBatchView)
}

/// Additive noise with a constant coefficient, g_i = σ for every component.
public struct ConstantDiffusion: Diffusion {
  public let sigma: Double
  public init(_ sigma: Double) { self.sigma = sigma }
  public var noise: NoiseStructure { .additive }

  public func diffusion(_ x: BatchView, t: Double, into output: MutableBatchView) {
    for e in 0..<output.count { output[e] = sigma }
  }

  public func uniformValue(t: Double) -> Double? { sigma }
}

// MARK: - Closure-backed conformances

/// A batch function of the shape every SDEKit protocol uses: the rows x at time t into output.
public typealias BatchFunction = @Sendable (_ x: BatchView, _ t: Double, _ output: MutableBatchView) -> Void

/// A drift given by a closure over the batch.
public struct DriftFunction: Drift {
  public let function: BatchFunction
  public init(_ function: @escaping BatchFunction) { self.function = function }
  public func drift(_ x: BatchView, t: Double, into output: MutableBatchView) { function(x, t, output) }
}

/// A diffusion given by closures over the batch, with an optional Milstein coefficient.
public struct DiffusionFunction: Diffusion {
  public let noise: NoiseStructure
  public let function: BatchFunction
  public let derivative: BatchFunction?

  public init(noise: NoiseStructure, _ function: @escaping BatchFunction,
              derivativeProduct: BatchFunction? = nil) {
    self.noise = noise
    self.function = function
    self.derivative = derivativeProduct
  }

  public func diffusion(_ x: BatchView, t: Double, into output: MutableBatchView) { function(x, t, output) }

  public var providesDerivative: Bool { derivative != nil }

  public func derivativeProduct(_ x: BatchView, t: Double, into output: MutableBatchView) {
    derivative!(x, t, output)
  }
}

/// An ODE vector field given by a closure over the batch.
public struct VectorFieldFunction: VectorField {
  public let function: BatchFunction
  public init(_ function: @escaping BatchFunction) { self.function = function }
  public func evaluate(_ y: BatchView, t: Double, into output: MutableBatchView) { function(y, t, output) }
}
