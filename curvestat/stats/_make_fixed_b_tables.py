"""Simulate the fixed-b null distributions of the Newey-West (Bartlett) t-statistics.

Writes ``curvestat/stats/_fixed_b_tables.py``: upper quantiles of the
t-statistics of :func:`curvestat.stats.hac_mean_test` (location model) and
:func:`curvestat.stats.hac_end_level_test` (line, level at the last point)
under H0, for bandwidth ratios ``b = (L + 1) / n`` on a grid, simulated at
``n = 256`` with iid N(0, 1) errors and no small-sample factor. That is the
fixed-b limit of Kiefer & Vogelsang (2005): with ``b`` held fixed, the
statistic converges to a functional of Brownian motion that does not depend
on the error process, so the table is the reference distribution for any
weakly dependent noise. Both statistics are symmetric under H0, so upper
quantiles suffice.

Usage (the command that produced the shipped table; ~1 minute)::

    python -m curvestat.stats._make_fixed_b_tables

Kiefer, N. M. & Vogelsang, T. J. (2005). A new asymptotic theory for
heteroskedasticity-autocorrelation robust tests. Econometric Theory 21,
1130-1164.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

N = 256
REPS = 200_000
CHUNK = 10_000
B_GRID = np.round(np.arange(0.02, 1.0001, 0.02), 4)
LEVELS = np.array([0.5, 0.6, 0.7, 0.75, 0.8, 0.85, 0.9, 0.925, 0.95, 0.96, 0.97, 0.975, 0.98, 0.985, 0.99,
                   0.9925, 0.995, 0.9965, 0.9975, 0.9985, 0.999, 0.9995])
SEED = 20261121


def _autocov(a: np.ndarray, b: np.ndarray, nfft: int) -> np.ndarray:
    """sum_t a_t b_{t-l} for l = 0..n-1, rows at once (FFT cross-correlation)."""
    fa = np.fft.rfft(a, nfft)
    fb = np.fft.rfft(b, nfft)
    return np.fft.irfft(fa * np.conj(fb), nfft)[:, : a.shape[1]]


def _bartlett_sum(gam_ab: np.ndarray, gam_ba: np.ndarray, lags: int) -> np.ndarray:
    w = 1.0 - np.arange(1, lags + 1) / (lags + 1.0)
    return gam_ab[:, 0] + (gam_ab[:, 1: lags + 1] + gam_ba[:, 1: lags + 1]) @ w


def simulate(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    nfft = 2 * N
    t = np.arange(N, dtype=np.float64) - (N - 1.0)
    design = np.column_stack([np.ones(N), t])
    xtx_inv = np.linalg.inv(design.T @ design)
    lags = [max(0, int(round(b * N)) - 1) for b in B_GRID]
    mean_stats: list[list[np.ndarray]] = [[] for _ in B_GRID]
    level_stats: list[list[np.ndarray]] = [[] for _ in B_GRID]
    for _ in range(REPS // CHUNK):
        e = rng.standard_normal((CHUNK, N))
        # location model
        u = e - e.mean(axis=1, keepdims=True)
        g = _autocov(u, u, nfft)
        num = e.mean(axis=1)
        # line: residuals and scores g_t = X_t u_t
        coef = e @ design @ xtx_inv  # (CHUNK, 2)
        r = e - coef @ design.T
        g1, g2 = r, r * t
        a11 = _autocov(g1, g1, nfft)
        a22 = _autocov(g2, g2, nfft)
        a12 = _autocov(g1, g2, nfft)
        a21 = _autocov(g2, g1, nfft)
        for i, lag in enumerate(lags):
            s = _bartlett_sum(g, g, lag)
            mean_stats[i].append(num / (np.sqrt(np.maximum(s, 1e-300)) / N))
            s11 = _bartlett_sum(a11, a11, lag)
            s22 = _bartlett_sum(a22, a22, lag)
            s12 = _bartlett_sum(a12, a21, lag)
            # var of coef[0] = (X'X)^-1 S (X'X)^-1 [0, 0]
            c0, c1 = xtx_inv[0, 0], xtx_inv[0, 1]
            var0 = c0 * c0 * s11 + 2 * c0 * c1 * s12 + c1 * c1 * s22
            level_stats[i].append(coef[:, 0] / np.sqrt(np.maximum(var0, 1e-300)))
    qm = np.array([np.quantile(np.abs(np.concatenate(x)), 2 * LEVELS - 1) for x in mean_stats])
    ql = np.array([np.quantile(np.abs(np.concatenate(x)), 2 * LEVELS - 1) for x in level_stats])
    return qm, ql


def main() -> None:
    qm, ql = simulate(np.random.default_rng(SEED))
    out = Path(__file__).resolve().parent / "_fixed_b_tables.py"

    def fmt(a: np.ndarray) -> str:
        return "(\n" + "".join("    (" + ", ".join(f"{v:.4f}" for v in row) + "),\n" for row in a) + ")"

    out.write_text(
        '"""Fixed-b quantiles of the Newey-West t-statistics (generated: python -m curvestat.stats._make_fixed_b_tables)."""\n\n'
        "# fmt: off\n"
        f"#: bandwidth ratios b = (L + 1) / n\nB_GRID = ({', '.join(f'{b:.2f}' for b in B_GRID)})\n"
        f"#: upper-tail probabilities 1 - p of the one-sided quantiles below\nLEVELS = ({', '.join(f'{v:g}' for v in LEVELS)})\n"
        f"#: quantiles of the mean test's statistic, one row per b\nMEAN = {fmt(qm)}\n"
        f"#: quantiles of the end-level test's statistic, one row per b\nEND_LEVEL = {fmt(ql)}\n"
        f"#: simulation: n = {N}, {REPS} draws per b, seed {SEED}\n",
        encoding="utf-8",
    )
    print(f"wrote {out}")
    for b, row_m, row_l in zip(B_GRID[::5], qm[::5], ql[::5]):
        print(f"b={b:.2f}  95%: mean {row_m[list(LEVELS).index(0.95)]:.3f} level {row_l[list(LEVELS).index(0.95)]:.3f}"
              f"   97.5%: mean {row_m[list(LEVELS).index(0.975)]:.3f}   99%: mean {row_m[list(LEVELS).index(0.99)]:.3f}")


if __name__ == "__main__":
    main()
