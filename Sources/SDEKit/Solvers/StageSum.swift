import CSIMDMath

/// One term of a Runge–Kutta stage sum: coefficient · values[e], times factor[e] when there is
/// a factor (ΔZ in a stochastic scheme's drift stages). Pointers index whole buffers.
@usableFromInline
struct StageTerm {
  @usableFromInline let coefficient: Double
  @usableFromInline let values: UnsafePointer<Double>
  @usableFromInline let factor: UnsafePointer<Double>?

  @inlinable
  init(_ coefficient: Double, _ values: UnsafePointer<Double>, times factor: UnsafePointer<Double>? = nil) {
    self.coefficient = coefficient
    self.values = values
    self.factor = factor
  }
}

/// out[e] = base[e] + Σ terms for e in `elements` (base nil: zero), each term added in order, so
/// the bits are those of one pass over memory per term. Up to four terms without a factor share
/// a pass, so a stage reads its inputs once instead of reading and writing `out` once per term;
/// a term with a factor, (c·values)·factor, takes a pass of its own. The passes run in C at the
/// process's SIMD level (`sdekit_stage_sum`), where Swift's loops ran at the build's target.
@inlinable
func addStageTerms(_ terms: UnsafeBufferPointer<StageTerm>, to base: UnsafePointer<Double>?,
                   into out: UnsafeMutablePointer<Double>, elements: Range<Int>) {
  let first = elements.lowerBound, count = terms.count
  withUnsafeTemporaryAllocation(of: Double.self, capacity: max(1, count)) { coefficients in
    withUnsafeTemporaryAllocation(of: UnsafePointer<Double>?.self, capacity: max(1, 2 * count)) { pointers in
      // Each term's coefficient, and its values and factor moved to the first element.
      let values = pointers.baseAddress!, factors = values + count
      for (t, term) in terms.enumerated() {
        coefficients[t] = term.coefficient
        values[t] = term.values + first
        factors[t] = term.factor.map { $0 + first }
      }
      sdekit_stage_sum(elements.count, out + first, base.map { $0 + first }, count, coefficients.baseAddress!,
                       values, factors)
    }
  }
}
