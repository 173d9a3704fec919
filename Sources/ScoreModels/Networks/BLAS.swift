#if canImport(Accelerate)
// Apple platforms: Accelerate's CBLAS (the same functions and constants as OpenBLAS's cblas.h).
import Accelerate
#else
import COpenBLAS
#endif
import CSIMDMath
import Foundation
import SDEKit

/// The scalars a network runs in: Float for use (OpenBLAS sgemm), Double for gradient checks
/// (dgemm) — one implementation of the layers for both.
public protocol NetworkScalar: BinaryFloatingPoint, Sendable, Codable where Self.RawSignificand: FixedWidthInteger {
  /// C ← α op(A) op(B) + β C, row-major; op transposes when asked. A is m × k after op, B k × n.
  static func gemm(transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int, alpha: Self,
                   a: UnsafePointer<Self>, lda: Int, b: UnsafePointer<Self>, ldb: Int, beta: Self,
                   c: UnsafeMutablePointer<Self>, ldc: Int)
  static func exp(_ x: Self) -> Self
  /// `bias` added to each row of `rows` (row-major, `bias.count` wide), then SiLU when `silu`.
  static func addBias(_ bias: UnsafeBufferPointer<Self>, to rows: UnsafeMutableBufferPointer<Self>, silu: Bool)
  /// z ← z σ(z) (SiLU) on every value.
  static func silu(_ z: UnsafeMutableBufferPointer<Self>)
  /// δ ← δ · silu′(z), silu′(z) = σ(z)(1 + z(1 − σ(z))): the backward pass through SiLU.
  static func siluBackward(_ delta: UnsafeMutableBufferPointer<Self>, preActivation z: UnsafeBufferPointer<Self>)
  /// The safetensors dtype name.
  static var safetensorsType: String { get }
}

@inline(__always)
private func transpose(_ flag: Bool) -> CBLAS_TRANSPOSE { flag ? CblasTrans : CblasNoTrans }

extension Float: NetworkScalar {
  public static func gemm(transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int, alpha: Float,
                          a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int, beta: Float,
                          c: UnsafeMutablePointer<Float>, ldc: Int) {
    cblas_sgemm(CblasRowMajor, transpose(transposeA), transpose(transposeB), Int32(m), Int32(n), Int32(k),
                alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
  }
  public static func exp(_ x: Float) -> Float { Foundation.exp(x) }
  /// Through CSIMDMath's SiLU at the process's SIMD level (`sdekit_bias_silu_f32`): the same
  /// arithmetic as the dense layers of `MLP.predict`, 16 values at a time, the last few through
  /// one zero-padded vector.
  public static func silu(_ z: UnsafeMutableBufferPointer<Float>) {
    sdekit_bias_silu_f32(z.baseAddress, z.count, nil, max(1, z.count), 1)
  }
  /// Along each row as `silu`.
  public static func addBias(_ bias: UnsafeBufferPointer<Float>, to rows: UnsafeMutableBufferPointer<Float>, silu: Bool) {
    guard !bias.isEmpty else { return }
    sdekit_bias_silu_f32(rows.baseAddress, rows.count / bias.count * bias.count, bias.baseAddress, bias.count, silu ? 1 : 0)
  }
  public static func siluBackward(_ delta: UnsafeMutableBufferPointer<Float>, preActivation z: UnsafeBufferPointer<Float>) {
    siluBackwardKernel(delta, z)
  }
  public static var safetensorsType: String { "F32" }
}

extension Double: NetworkScalar {
  public static func gemm(transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int, alpha: Double,
                          a: UnsafePointer<Double>, lda: Int, b: UnsafePointer<Double>, ldb: Int, beta: Double,
                          c: UnsafeMutablePointer<Double>, ldc: Int) {
    cblas_dgemm(CblasRowMajor, transpose(transposeA), transpose(transposeB), Int32(m), Int32(n), Int32(k),
                alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
  }
  public static func exp(_ x: Double) -> Double { Foundation.exp(x) }
  public static func silu(_ z: UnsafeMutableBufferPointer<Double>) { siluKernel(z) }
  public static func addBias(_ bias: UnsafeBufferPointer<Double>, to rows: UnsafeMutableBufferPointer<Double>, silu: Bool) {
    addBiasKernel(bias, rows, silu: silu)
  }
  public static func siluBackward(_ delta: UnsafeMutableBufferPointer<Double>, preActivation z: UnsafeBufferPointer<Double>) {
    siluBackwardKernel(delta, z)
  }
  public static var safetensorsType: String { "F64" }
}

// One body for both scalars; each conformance above calls it with a concrete type, so the
// optimiser compiles a specialised loop for each (generic code would call every + through a
// witness table).
@inline(__always)
private func addBiasKernel<S: NetworkScalar>(_ bias: UnsafeBufferPointer<S>, _ rows: UnsafeMutableBufferPointer<S>, silu: Bool) {
  let width = bias.count
  guard width > 0 else { return }
  for r in 0..<(rows.count / width) {
    for o in 0..<width {
      let z = rows[r * width + o] + bias[o]
      rows[r * width + o] = silu ? z / (1 + S.exp(-z)) : z
    }
  }
}

@inline(__always)
private func siluKernel<S: NetworkScalar>(_ z: UnsafeMutableBufferPointer<S>) {
  for e in 0..<z.count { z[e] = z[e] / (1 + S.exp(-z[e])) }
}

@inline(__always)
private func siluBackwardKernel<S: NetworkScalar>(_ delta: UnsafeMutableBufferPointer<S>, _ z: UnsafeBufferPointer<S>) {
  for e in 0..<delta.count {
    let sigma = 1 / (1 + S.exp(-z[e]))
    delta[e] *= sigma * (1 + z[e] * (1 - sigma))
  }
}

/// OpenBLAS's own threads stay off: samplers already split rows across cores, and one thread
/// keeps a product's bits independent of the machine's load. The library starts its worker
/// threads when it is loaded, before any product, and an idle worker spins in `sched_yield` for a
/// while before it sleeps: on a 2-core machine that took a core's share from a sampler that never
/// calls BLAS (W4's 90 ms runs: 9.4–12.3 ns per path-step with the worker, 8.8–9.2 without). So
/// the workers are stopped, not just left idle. Evaluated once, by the first network and by the
/// command-line tool as it starts.
/// With Accelerate (Apple platforms) there is nothing to stop.
public let openBLASSingleThreaded: Void = {
  #if !canImport(Accelerate)
  openblas_set_num_threads(1)
  _ = blas_thread_shutdown_()
  #endif
}()

/// The shared object `cblas_sgemm` was bound to at run time (OpenBLAS, not GSL's slow
/// gslcblas, when the link order is right): the mapping in /proc/self/maps holding its address
/// (nil where there is no /proc, as on Apple platforms).
public func cblasLibraryPath() -> String? {
  // /proc files report size 0, so read them to the end rather than by their size.
  guard let symbol = dlsym(dlopen(nil, RTLD_NOW), "cblas_sgemm"),
        let maps = FileHandle(forReadingAtPath: "/proc/self/maps").map({ String(decoding: $0.readDataToEndOfFile(), as: UTF8.self) })
  else { return nil }
  let address = UInt(bitPattern: symbol)
  for line in maps.split(separator: "\n") {
    let fields = line.split(separator: " ", omittingEmptySubsequences: true)
    let range = fields.first?.split(separator: "-") ?? []
    guard fields.count >= 6, range.count == 2, let low = UInt(range[0], radix: 16), let high = UInt(range[1], radix: 16),
          (low..<high).contains(address) else { continue }
    return fields[5...].joined(separator: " ")
  }
  return nil
}
