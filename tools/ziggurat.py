"""The constants of SDEKit's ziggurat for the standard normal (NormalSource): Marsaglia & Tsang's
layout with 1024 layers of equal area v, the base layer holding the tail beyond r.

    python tools/ziggurat.py        # needs mpmath (pip install mpmath)

With f(x) = exp(−x²/2), the layers' right edges are X₁ = r and X_{i+1} = √(−2 ln(v/X_i + f(X_i))),
so that X_i (f(X_{i+1}) − f(X_i)) = v, and the base layer's width is X₀ = v/f(r). The ziggurat
closes when the top layer reaches x = 0 with area v as well: r is the root of that condition and
v = r f(r) + ∫_r^∞ f, the base layer's area. Prints r and v rounded to the nearest double (the
values in the Swift source, which builds the tables from them)."""
import mpmath as mp

mp.mp.dps = 50
LAYERS = 1024


def f(x):
    return mp.exp(-x * x / 2)


def area(r):
    return r * f(r) + mp.sqrt(mp.pi / 2) * mp.erfc(r / mp.sqrt(2))


def closing(r):
    """v/X + f(X) − 1 for the edge X below the top layer: zero when the top layer has area v,
    positive when the layers reach 0 too early (r too small), negative when too late."""
    v, x = area(r), r
    for _ in range(LAYERS - 2):
        y = v / x + f(x)
        if y >= 1:
            return mp.mpf(1)
        x = mp.sqrt(-2 * mp.log(y))
    return v / x + f(x) - 1


# Bisection: closing is positive below the root and negative above it.
low, high = mp.mpf("3.5"), mp.mpf("4.2")
for _ in range(200):
    middle = (low + high) / 2
    low, high = (middle, high) if closing(middle) > 0 else (low, middle)
r = (low + high) / 2
print(f"r = {float(r)!r}  (closing residual {mp.nstr(closing(r), 3)})")
print(f"v = {float(area(r))!r}")
