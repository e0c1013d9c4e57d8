"""Fits the polynomials behind jkeras.activations' exact GELU, and prints them.

The lower tail of the standard normal is written as Phi(-u) = phi(u) * t * Q(t) with
t = 1 / (1 + p u), u >= 0: the Mills ratio Phi(-u) / phi(u) is smooth in t on [0, 1] and
tends to 1/u as u grows, so Q(0) = p. Q is fitted here by weighted least squares on the
relative error, reweighted (Lawson's iteration) towards the minimax fit, in float64 against
SciPy's scaled erfc. The GELU then needs one exp, shared by its value and its derivative.

Usage: python tools/fit_normal_tail.py  (needs SciPy: pip install scipy)
"""
import numpy as np
from scipy.special import erfcx


def mills_ratio(u):
    """Phi(-u) / phi(u) in float64."""
    return np.sqrt(np.pi / 2) * erfcx(u / np.sqrt(2))


def fit(p, degree, points=20000, rounds=60):
    """(coefficients of Q, lowest first; max relative error of t * Q(t) on [0, inf))."""
    t = (0.5 - 0.5 * np.cos(np.linspace(0, np.pi, points)))[1:]
    q = mills_ratio((1 / t - 1) / p) / t
    basis = np.vander(t, degree + 1, increasing=True) / q[:, None]
    weights, best = np.ones_like(q), (None, np.inf)
    for _ in range(rounds):
        coeffs, *_ = np.linalg.lstsq(basis * weights[:, None], weights, rcond=None)
        err = np.abs(basis @ coeffs - 1)
        if err.max() < best[1]:
            best = (coeffs, err.max())
        weights = weights * np.sqrt(err / err.max() + 1e-2)
        weights /= weights.max()
    return best


def best_fit(degree):
    """The p on a 0.025 grid whose fit of this degree has the least relative error."""
    fits = [(fit(p, degree), p) for p in np.arange(0.2, 0.8, 0.025)]
    (coeffs, err), p = min(fits, key=lambda f: f[0][1])
    return round(float(p), 3), coeffs, err


if __name__ == "__main__":
    for degree in (5, 9):  # 16-bit inputs, 32-bit inputs
        p, coeffs, err = best_fit(degree)
        print(f"degree {degree}: p = {p}, max relative error {err:.2e}")
        print("  (" + ", ".join(f"{c:.9g}" for c in coeffs) + ")")
