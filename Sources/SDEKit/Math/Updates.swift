import CSIMDMath

// The solvers' per-step updates over whole batches, in C at the process's SIMD level
// (CSIMDMath's Kernels/Updates.h): the same operations in the same order as the Swift loops they
// replace, so the same bits, at the speed of the best level the CPU has whatever the build's target.

/// x[e] += h·f[e] + g·dW[e] for every element: the Euler–Maruyama update with additive noise.
@inlinable @inline(__always)
func eulerMaruyamaUpdate(_ x: UnsafeMutableBufferPointer<Double>, h: Double, drift f: UnsafeMutableBufferPointer<Double>,
                         diffusion g: Double, increments dW: UnsafeBufferPointer<Double>) {
  sdekit_euler_maruyama_additive(x.count, x.baseAddress, h, f.baseAddress, g, dW.baseAddress)
}

/// x[e] += h·f[e] + g[e]·dW[e] for every element: the Euler–Maruyama update, one g per element.
@inlinable @inline(__always)
func eulerMaruyamaUpdate(_ x: UnsafeMutableBufferPointer<Double>, h: Double, drift f: UnsafeMutableBufferPointer<Double>,
                         diffusion g: UnsafeMutableBufferPointer<Double>, increments dW: UnsafeBufferPointer<Double>) {
  sdekit_euler_maruyama_diagonal(x.count, x.baseAddress, h, f.baseAddress, g.baseAddress, dW.baseAddress)
}

/// The iterated integrals of a stochastic Runge–Kutta step for `count` elements from ΔW at `dW`:
/// I₍₁,₁₎ = ½(ΔW² − |h|) to `i11` and I₍₁,₁,₁₎ = ΔW(ΔW² − 3|h|)/6 to `i111`.
@inlinable @inline(__always)
func stochasticRungeKuttaIntegrals(count: Int, increments dW: UnsafePointer<Double>, absStep: Double,
                                   i11: UnsafeMutablePointer<Double>, i111: UnsafeMutablePointer<Double>) {
  sdekit_srk_integrals(count, dW, absStep, i11, i111)
}

/// x[e] += a·f[e] for `count` elements: a stage's drift in a stochastic Runge–Kutta update.
@inlinable @inline(__always)
func stochasticRungeKuttaDriftUpdate(count: Int, _ x: UnsafeMutablePointer<Double>, _ a: Double,
                                     _ f: UnsafePointer<Double>) {
  withUnsafeTemporaryAllocation(of: UnsafePointer<Double>?.self, capacity: 1) { values in
    values[0] = f
    var a = a
    sdekit_stage_sum(count, x, x, 1, &a, values.baseAddress, nil)
  }
}

/// x[e] += g[e]·(b1·ΔW[e] + b2·I₍₁,₁₎[e] + b3·ΔZ[e] + b4·I₍₁,₁,₁₎[e]) for `count` elements, the
/// terms added left to right: a stage's diffusion in a stochastic Runge–Kutta update.
@inlinable @inline(__always)
func stochasticRungeKuttaDiffusionUpdate(
  count: Int, _ x: UnsafeMutablePointer<Double>, _ g: UnsafePointer<Double>, _ b1: Double,
  _ dW: UnsafePointer<Double>, _ b2: Double, _ i11: UnsafePointer<Double>, _ b3: Double, _ dZ: UnsafePointer<Double>,
  _ b4: Double, _ i111: UnsafePointer<Double>
) {
  sdekit_srk_diffusion_update(count, x, g, b1, dW, b2, i11, b3, dZ, b4, i111)
}
