/// Calls made by one chunk of rows; each chunk owns its counter, so no synchronisation is needed.
final class EvaluationCounter: @unchecked Sendable {
  var drift = 0
  var diffusion = 0
}

/// A drift (or ODE vector field) that counts its batch calls.
struct CountingDrift<F: Drift>: Drift, @unchecked Sendable {
  let base: F
  let counter: EvaluationCounter

  func drift(_ x: UnsafeBufferPointer<Double>, t: Double, dimension: Int,
             into output: UnsafeMutableBufferPointer<Double>) {
    counter.drift += 1
    base.drift(x, t: t, dimension: dimension, into: output)
  }
}

struct CountingVectorField<F: VectorField>: VectorField, @unchecked Sendable {
  let base: F
  let counter: EvaluationCounter

  func evaluate(_ y: UnsafeBufferPointer<Double>, t: Double, dimension: Int,
                into output: UnsafeMutableBufferPointer<Double>) {
    counter.drift += 1
    base.evaluate(y, t: t, dimension: dimension, into: output)
  }
}

/// A diffusion that counts its batch calls, the Milstein coefficient included.
struct CountingDiffusion<G: Diffusion>: Diffusion, @unchecked Sendable {
  let base: G
  let counter: EvaluationCounter

  var noise: NoiseStructure { base.noise }
  var providesDerivative: Bool { base.providesDerivative }

  func diffusion(_ x: UnsafeBufferPointer<Double>, t: Double, dimension: Int,
                 into output: UnsafeMutableBufferPointer<Double>) {
    counter.diffusion += 1
    base.diffusion(x, t: t, dimension: dimension, into: output)
  }

  /// An evaluation when the base has a uniform value: the solver uses it in place of `diffusion`.
  func uniformValue(t: Double) -> Double? {
    guard let value = base.uniformValue(t: t) else { return nil }
    counter.diffusion += 1
    return value
  }

  func derivativeProduct(_ x: UnsafeBufferPointer<Double>, t: Double, dimension: Int,
                         into output: UnsafeMutableBufferPointer<Double>) {
    counter.diffusion += 1
    base.derivativeProduct(x, t: t, dimension: dimension, into: output)
  }
}
