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
/// a term with a factor, (c·values)·factor, takes a pass of its own (an optional factor inside
/// the loop vectorised into masked loads).
@inlinable
func addStageTerms(_ terms: UnsafeBufferPointer<StageTerm>, to base: UnsafePointer<Double>?,
                   into out: UnsafeMutablePointer<Double>, elements: Range<Int>) {
  var source: UnsafePointer<Double>
  if let base {
    source = base
  } else {
    for e in elements { out[e] = 0 }
    source = UnsafePointer(out)
  }
  if terms.isEmpty, source != UnsafePointer(out) {
    for e in elements { out[e] = source[e] }
  }
  var first = 0
  while first < terms.count {
    let t0 = terms[first]
    if let f = t0.factor {
      for e in elements { out[e] = source[e] + t0.coefficient * t0.values[e] * f[e] }
      first += 1
    } else {
      var count = 1
      while count < 4, first + count < terms.count, terms[first + count].factor == nil { count += 1 }
      switch count {
      case 1:
        for e in elements { out[e] = source[e] + t0.coefficient * t0.values[e] }
      case 2:
        let t1 = terms[first + 1]
        for e in elements { out[e] = source[e] + t0.coefficient * t0.values[e] + t1.coefficient * t1.values[e] }
      case 3:
        let t1 = terms[first + 1], t2 = terms[first + 2]
        for e in elements {
          out[e] = source[e] + t0.coefficient * t0.values[e] + t1.coefficient * t1.values[e]
            + t2.coefficient * t2.values[e]
        }
      default:
        let t1 = terms[first + 1], t2 = terms[first + 2], t3 = terms[first + 3]
        for e in elements {
          out[e] = source[e] + t0.coefficient * t0.values[e] + t1.coefficient * t1.values[e]
            + t2.coefficient * t2.values[e] + t3.coefficient * t3.values[e]
        }
      }
      first += count
    }
    source = UnsafePointer(out)
  }
}
