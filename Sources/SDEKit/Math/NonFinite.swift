import CSIMDMath

/// The first row holding a NaN or infinity, or nil.
///
/// Contiguous values (every caller's) go through `sdekit_first_nonfinite` at the process's SIMD
/// level: one pass of integer operations for the common all-finite case; other collections are
/// searched value by value.
func firstNonFiniteRow<C: Collection>(_ values: C, dimension: Int) -> Int?
where C.Element == Double, C.Index == Int {
  let index = values.withContiguousStorageIfAvailable { sdekit_first_nonfinite($0.baseAddress, $0.count) }
    ?? values.indices.first { !values[$0].isFinite }.map { $0 - values.startIndex } ?? -1
  return index >= 0 ? index / dimension : nil
}
