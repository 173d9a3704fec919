"""The minimax polynomial coefficients of SDEKit's vector exp and log (VectorMath.exp and
VectorMath.log), by the Remez exchange algorithm in 60-digit arithmetic.

    python tools/minimax.py        # needs mpmath (pip install mpmath)

Prints, for each function, the largest weighted error of the exact minimax polynomial and its
coefficients rounded to the nearest double (the values in the Swift sources). The errors are far
below half an ulp, so rounding the coefficients and evaluating in double precision dominate the
final accuracy, which the tests measure against libm."""
import mpmath as mp

mp.mp.dps = 60


def remez(f, weight, a, b, degree, fixed=(), iterations=30, grid=4000):
    """The p minimising max over [a, b] of |weight(x) (f(x) − p(x))|, where p(x) = Σ fixed[k] xᵏ
    + Σ c_k xᵏ for k = len(fixed) … degree. Returns ({k: c_k}, the largest weighted error)."""
    free = list(range(len(fixed), degree + 1))
    n = len(free)

    def rest(x):
        return f(x) - sum(c * x ** k for k, c in enumerate(fixed))

    # Start from the Chebyshev extrema; each pass solves for the equioscillating polynomial on
    # the reference and moves the reference to the alternating extrema of the new error.
    reference = [(a + b) / 2 + (b - a) / 2 * mp.cos(mp.pi * (n - i) / n) for i in range(n + 1)]
    xs = [a + (b - a) * mp.mpf(i) / grid for i in range(grid + 1)]
    for _ in range(iterations):
        matrix, rhs = mp.matrix(n + 1, n + 1), mp.matrix(n + 1, 1)
        for i, x in enumerate(reference):
            for j, k in enumerate(free):
                matrix[i, j] = x ** k
            matrix[i, n] = (-1) ** i / weight(x)
            rhs[i] = rest(x)
        solution = mp.lu_solve(matrix, rhs)
        coefficients = [solution[j] for j in range(n)]
        errors = [weight(x) * (rest(x) - sum(c * x ** k for c, k in zip(coefficients, free))) for x in xs]
        extrema = []
        for i, e in enumerate(errors):
            if all(abs(e) >= abs(errors[j]) for j in (i - 1, i + 1) if 0 <= j < len(errors)):
                if extrema and mp.sign(extrema[-1][1]) == mp.sign(e):
                    if abs(e) > abs(extrema[-1][1]):
                        extrema[-1] = (xs[i], e)
                else:
                    extrema.append((xs[i], e))
        while len(extrema) > n + 1:
            extrema.pop(0 if abs(extrema[0][1]) < abs(extrema[-1][1]) else -1)
        if len(extrema) < n + 1:
            break
        reference = [x for x, _ in extrema]
    return dict(zip(free, coefficients)), max(abs(e) for e in errors)


def show(name, coefficients, error):
    print(f"{name}: largest weighted error {mp.nstr(error, 3)}")
    for k in sorted(coefficients):
        print(f"  c{k} = {float(coefficients[k])!r}")


def main():
    # exp: eʳ = 1 + r + Σ c_k rᵏ (k = 2 … 6) on |r| ≤ ln 2/32, relative error; the reduction
    # uses 2^(j/16), j = 0 … 15, from a table of the nearest doubles, and ln 2/16 split in a head
    # of 32 significant bits and a tail.
    h = mp.log(2) / 32
    show("exp, degree 6, relative", *remez(mp.exp, lambda r: 1 / mp.exp(r), -h, h, 6, fixed=(1, 1)))
    print("  2^(j/16): " + ", ".join(float(mp.power(2, mp.mpf(j) / 16)).hex() for j in range(16)))
    step = mp.log(2) / 16
    exponent = mp.floor(mp.log(step, 2)) + 1
    head = mp.nint(step * 2 ** (32 - exponent)) / 2 ** (32 - exponent)
    print(f"  ln 2/16 = {float(head)!r} + {float(step - head)!r}; 16/ln 2 = {float(1 / step)!r}")

    # Single-precision exp of the network's SiLU (CSIMDMath Kernels/Network.h): eʳ = 1 + r + Σ c_k rᵏ
    # (k = 2 … 6) on |r| ≤ ln 2/2, relative error; coefficients rounded to the nearest float.
    show("float exp, degree 6, relative", *remez(mp.exp, lambda r: 1 / mp.exp(r), -mp.log(2) / 2, mp.log(2) / 2, 6,
                                                  fixed=(1, 1)))

    # log: ln m = s·p(s²), s = (m − 1)/(m + 1) ∈ [−s₀, s₀], s₀ = (√2 − 1)/(√2 + 1); p(0) = 2.
    s0 = (mp.sqrt(2) - 1) / (mp.sqrt(2) + 1)

    def artanh_ratio(z):
        return mp.mpf(2) if z == 0 else 2 * mp.atanh(mp.sqrt(z)) / mp.sqrt(z)

    show("log, degree 7 in s², relative",
         *remez(artanh_ratio, lambda z: 1 / artanh_ratio(z), mp.mpf(0), s0 ** 2, 7, fixed=(2,)))

if __name__ == "__main__":
    main()
