/// Calls made by one chunk of rows; each chunk owns its counter, so no synchronisation is needed.
final class EvaluationCounter: @unchecked Sendable {
  var drift = 0
  var diffusion = 0
}

/// A drift (or ODE vector field) that counts its batch calls.
struct CountingDrift<F: Drift>: Drift, @unchecked Sendable {
  let base: F
  let counter: EvaluationCounter

  func drift(_ x: BatchView, t: Double, into output: MutableBatchView) {
    counter.drift += 1
    base.drift(x, t: t, into: output)
  }
}

struct CountingVectorField<F: VectorField>: VectorField, @unchecked Sendable {
  let base: F
  let counter: EvaluationCounter

  func evaluate(_ y: BatchView, t: Double, into output: MutableBatchView) {
    counter.drift += 1
    base.evaluate(y, t: t, into: output)
  }
}

/// A diffusion that counts its batch calls, the Milstein coefficient included.
struct CountingDiffusion<G: Diffusion>: Diffusion, @unchecked Sendable {
  let base: G
  let counter: EvaluationCounter

  var noise: NoiseStructure { base.noise }
  var providesDerivative: Bool { base.providesDerivative }

  func diffusion(_ x: BatchView, t: Double, into output: MutableBatchView) {
    counter.diffusion += 1
    base.diffusion(x, t: t, into: output)
  }

  /// An evaluation when the base has a uniform value: the solver uses it in place of `diffusion`.
  func uniformValue(t: Double) -> Double? {
    guard let value = base.uniformValue(t: t) else { return nil }
    counter.diffusion += 1
    return value
  }

  func derivativeProduct(_ x: BatchView, t: Double, into output: MutableBatchView) {
    counter.diffusion += 1
    base.derivativeProduct(x, t: t, into: output)
  }
}
