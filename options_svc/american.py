"""American option values: Bjerksund-Stensland (2002) one at a time or over arrays, and implied volatility.

Listed US equity and ETF options are American. With no dividends (the universe has none) an
American call is never worth exercising early and equals its Black-Scholes value; an American put
is worth more than the European one, and never less than its intrinsic value. Puts are valued with
the two-step flat-boundary approximation of Bjerksund and Stensland (2002) through their put-call
transformation P(S, K, T, r, b) = C(K, S, T, r - b, -b), floored at the European value and at
intrinsic (the approximation is a lower bound). The scalar functions serve single quotes; the
array functions value a batch in one numpy pass and agree with them to rounding.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from synthmarket.domain.chain import RISK_FREE_RATE

_SQRT2 = math.sqrt(2.0)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
_T1 = 0.5 * (math.sqrt(5.0) - 1.0)      # t1 / T: where the two-step exercise boundary changes level
_RHO = math.sqrt(_T1)                    # the correlation of every bivariate term, a constant

# The bivariate normal at correlation _RHO by Sheppard's integral over [0, asin rho] with six
# Gauss-Legendre nodes (error under 1e-6 on a $600 option's value):
# M(a, b) = N(a) N(b) + sum_k w_k exp((2 a b sin t_k - a² - b²) / (2 cos² t_k)).
_GL_X, _GL_W = np.polynomial.legendre.leggauss(6)
_THETA = 0.5 * math.asin(_RHO) * (_GL_X + 1.0)
_NODE_W = 0.5 * math.asin(_RHO) * _GL_W / (2.0 * math.pi)
_NODE_S = np.sin(_THETA)
_NODE_C = 0.5 / np.cos(_THETA) ** 2
(_W0, _W1, _W2, _W3, _W4, _W5) = _NODE_W.tolist()
(_S0, _S1, _S2, _S3, _S4, _S5) = (2.0 * _NODE_S).tolist()
(_C0, _C1, _C2, _C3, _C4, _C5) = _NODE_C.tolist()


# ---------------------------------------------------------------------------------------------
# one value at a time


def _ncdf(x: float) -> float:
    return 0.5 * math.erfc(-x / _SQRT2)


def _bvn(a: float, na: float, b: float) -> float:
    """P(X <= a, Y <= b) for standard normals with correlation _RHO (the quadrature unrolled), given
    ``na`` = N(a): the psi terms pair each ``a`` with several ``b``."""
    q = a * a + b * b
    ab = a * b
    exp = math.exp
    return (na * 0.5 * math.erfc(-b / _SQRT2)
            + _W0 * exp((ab * _S0 - q) * _C0) + _W1 * exp((ab * _S1 - q) * _C1) + _W2 * exp((ab * _S2 - q) * _C2)
            + _W3 * exp((ab * _S3 - q) * _C3) + _W4 * exp((ab * _S4 - q) * _C4) + _W5 * exp((ab * _S5 - q) * _C5))


def bs_price(right: str, spot: float, strike: float, t_years: float, sigma: float,
             r: float = RISK_FREE_RATE) -> float:
    """European Black-Scholes price with q = 0; at T = 0 the intrinsic value."""
    if t_years <= 0.0 or sigma <= 0.0:
        intrinsic = spot - strike if right == "C" else strike - spot
        return max(intrinsic, 0.0)
    vol_t = sigma * math.sqrt(t_years)
    d1 = (math.log(spot / strike) + (r + 0.5 * sigma * sigma) * t_years) / vol_t
    d2 = d1 - vol_t
    disc = strike * math.exp(-r * t_years)
    if right == "C":
        return spot * _ncdf(d1) - disc * _ncdf(d2)
    return disc * _ncdf(-d2) - spot * _ncdf(-d1)


def bs_vega(spot: float, strike: float, t_years: float, sigma: float, r: float = RISK_FREE_RATE) -> float:
    """dPrice/dsigma of the European option (calls and puts alike)."""
    if t_years <= 0.0 or sigma <= 0.0:
        return 0.0
    sqrt_t = math.sqrt(t_years)
    d1 = (math.log(spot / strike) + (r + 0.5 * sigma * sigma) * t_years) / (sigma * sqrt_t)
    return spot * sqrt_t * _INV_SQRT_2PI * math.exp(-0.5 * d1 * d1)


def bs_vegas(spot: np.ndarray, strike: np.ndarray, t: np.ndarray, sigma: np.ndarray) -> np.ndarray:
    """``bs_vega`` of every element, the same floats (T > 0 and sigma > 0 everywhere): its own
    math.log and math.exp per element, as numpy's can differ in the last bit."""
    sqrt_t = np.sqrt(t)
    log_moneyness = np.array([math.log(x) for x in (spot / strike).tolist()])
    d1 = (log_moneyness + (RISK_FREE_RATE + 0.5 * sigma * sigma) * t) / (sigma * sqrt_t)
    return spot * sqrt_t * _INV_SQRT_2PI * np.array([math.exp(x) for x in (-0.5 * d1 * d1).tolist()])


# Every term below is computed in logs with its weight folded in: the weight alpha = (I - X) I^-beta
# of the gamma = beta terms cancels S^beta (beta = 1 + 2r / sigma², hundreds at low vol), which
# would overflow on its own.


class _Frame(NamedTuple):
    """What every phi and psi term of one valuation shares: logs of S, I1 and I2, the deviations
    to t1 and T, and the model's parameters."""

    ls: float
    li1: float
    li2: float
    sd1: float
    sd2: float
    v2: float
    r: float
    b: float
    t: float
    t1: float


def _phi(g: float, lh: float, ln_w: float, k: _Frame) -> float:
    """``w * phi(S, t1, gamma, H, I2)`` with ln H = ``lh`` and ln w = ``ln_w``."""
    ls, _, li2, sd, _, v2, r, b, _, t = k
    d = -(ls - lh + (b + (g - 0.5) * v2) * t) / sd
    kappa = 2.0 * b / v2 + 2.0 * g - 1.0
    ln_pre = (-r + g * b + 0.5 * g * (g - 1.0) * v2) * t + g * ls + ln_w
    return math.exp(ln_pre) * _ncdf(d) - math.exp(ln_pre + kappa * (li2 - ls)) * _ncdf(d - 2.0 * (li2 - ls) / sd)


def _psi(g: float, lhs: tuple[float, ...], ln_w: float, k: _Frame) -> list[float]:
    """``w * psi(S, T, gamma, H, I2, I1, t1)`` for each ln H in ``lhs``, with ln w = ``ln_w``.

    The bivariate terms' first arguments and the prefactors depend on gamma alone: they are shared
    by every H.
    """
    ls, li1, li2, sd1, sd2, v2, r, b, t2, t1 = k
    m = b + (g - 0.5) * v2
    mt1, mt2 = m * t1, m * t2
    a1 = -((ls - li1 + mt1) / sd1)
    a2 = -((2.0 * li2 - ls - li1 + mt1) / sd1)
    a3 = -((ls - li1 - mt1) / sd1)
    a4 = -((2.0 * li2 - ls - li1 - mt1) / sd1)
    n1, n2, n3, n4 = _ncdf(a1), _ncdf(a2), _ncdf(a3), _ncdf(a4)
    kappa = 2.0 * b / v2 + 2.0 * g - 1.0
    ln_pre = (-r + g * b + 0.5 * g * (g - 1.0) * v2) * t2 + g * ls + ln_w
    exp = math.exp
    p1, p2 = exp(ln_pre), exp(ln_pre + kappa * (li2 - ls))
    p3, p4 = exp(ln_pre + kappa * (li1 - ls)), exp(ln_pre + kappa * (li1 - li2))
    out = []
    for lh in lhs:
        # M(a, b; -rho) = N(a) - M(a, -b; rho): the third and fourth terms at +rho.
        b1 = -((ls - lh + mt2) / sd2)
        b2 = -((2.0 * li2 - ls - lh + mt2) / sd2)
        b3 = (2.0 * li1 - ls - lh + mt2) / sd2
        b4 = (ls + 2.0 * li1 - lh - 2.0 * li2 + mt2) / sd2
        out.append(p1 * _bvn(a1, n1, b1) - p2 * _bvn(a2, n2, b2) - p3 * (n3 - _bvn(a3, n3, b3))
                   + p4 * (n4 - _bvn(a4, n4, b4)))
    return out


def _call_2002(s: float, x: float, t: float, r: float, b: float, v: float) -> float:
    """Bjerksund-Stensland (2002) American call with carry b < r."""
    v2 = v * v
    t1 = _T1 * t
    beta = (0.5 - b / v2) + math.sqrt((b / v2 - 0.5) ** 2 + 2.0 * r / v2)
    b_inf = beta / (beta - 1.0) * x
    b_0 = max(x, r / (r - b) * x)
    scale = x * x / ((b_inf - b_0) * b_0)
    i1 = b_0 + (b_inf - b_0) * (1.0 - math.exp(-(b * t1 + 2.0 * v * math.sqrt(t1)) * scale))
    i2 = b_0 + (b_inf - b_0) * (1.0 - math.exp(-(b * t + 2.0 * v * math.sqrt(t)) * scale))
    if s >= i2:
        return s - x
    ls, lx, li1, li2 = math.log(s), math.log(x), math.log(i1), math.log(i2)
    k = _Frame(ls, li1, li2, v * math.sqrt(t1), v * math.sqrt(t), v2, r, b, t, t1)
    ln_a1 = math.log(i1 - x) - beta * li1      # alpha1 = (I1 - X) I1^-beta
    ln_a2 = math.log(i2 - x) - beta * li2
    (psi_beta,) = _psi(beta, (li1,), ln_a1, k)
    psi_one_i1, psi_one_x = _psi(1.0, (li1, lx), 0.0, k)
    psi_zero_i1, psi_zero_x = _psi(0.0, (li1, lx), 0.0, k)
    return (math.exp(ln_a2 + beta * ls) - _phi(beta, li2, ln_a2, k)
            + _phi(1.0, li2, 0.0, k) - _phi(1.0, li1, 0.0, k)
            - x * _phi(0.0, li2, 0.0, k) + x * _phi(0.0, li1, 0.0, k)
            + _phi(beta, li1, ln_a1, k) - psi_beta
            + psi_one_i1 - psi_one_x
            - x * psi_zero_i1 + x * psi_zero_x)


def american_price(right: str, spot: float, strike: float, t_years: float, sigma: float,
                   r: float = RISK_FREE_RATE) -> float:
    """American value with q = 0: the Black-Scholes call, the Bjerksund-Stensland (2002) put."""
    if right == "C" or t_years <= 0.0 or sigma <= 0.0:
        return bs_price(right, spot, strike, t_years, sigma, r)
    european = bs_price("P", spot, strike, t_years, sigma, r)
    # Put-call transformation: the put on S struck at K is the call on K struck at S, carry -r, rate 0.
    value = _call_2002(strike, spot, t_years, 0.0, -r, sigma)
    return max(value, european, strike - spot)


def implied_vol(right: str, price: float, spot: float, strike: float, t_years: float,
                lo: float = 0.02, hi: float = 5.0, r: float = RISK_FREE_RATE) -> float | None:
    """The sigma at which ``american_price`` equals ``price`` (bisection); None when no sigma in
    [lo, hi] reaches it (a price at or below intrinsic, or beyond the top)."""
    f_lo = american_price(right, spot, strike, t_years, lo, r) - price
    f_hi = american_price(right, spot, strike, t_years, hi, r) - price
    if f_lo > 0.0 or f_hi < 0.0:
        return None
    for _ in range(60):
        mid = 0.5 * (lo + hi)
        if american_price(right, spot, strike, t_years, mid, r) > price:
            hi = mid
        else:
            lo = mid
        if hi - lo < 1e-7:
            break
    return 0.5 * (lo + hi)


# ---------------------------------------------------------------------------------------------
# arrays: the same values for a batch, every normal and bivariate term in one stacked pass

# W. J. Cody / Hart (1968) double-precision normal CDF, as in West (2005), "Better approximations
# to cumulative normal functions": numpy has no erf, and a Python loop would cost more than the pricing.
_HART_P = (3.52624965998911e-02, 0.700383064443688, 6.37396220353165, 33.912866078383, 112.079291497871,
           221.213596169931, 220.206867912376)
_HART_Q = (8.83883476483184e-02, 1.75566716318264, 16.064177579207, 86.7807322029461, 296.564248779674,
           637.333633378831, 793.826512519948, 440.413735824752)


def ncdf_array(x: np.ndarray) -> np.ndarray:
    """The standard normal CDF of every element (absolute error ~1e-15)."""
    ax = np.abs(x)
    expo = np.exp(-0.5 * ax * ax)
    num = np.full_like(ax, _HART_P[0])
    for c in _HART_P[1:]:
        num = num * ax + c
    den = np.full_like(ax, _HART_Q[0])
    for c in _HART_Q[1:]:
        den = den * ax + c
    near = expo * num / den
    with np.errstate(divide="ignore", invalid="ignore"):
        frac = ax + 0.65
        for c in (4.0, 3.0, 2.0, 1.0):
            frac = ax + c / frac
        far = expo / frac / 2.506628274631
    tail = np.where(ax < 7.07106781186547, near, far)
    tail = np.where(ax > 37.0, 0.0, tail)
    return np.where(x > 0.0, 1.0 - tail, tail)


def bs_prices(put: np.ndarray, spot: np.ndarray, strike: np.ndarray, t_years: np.ndarray, sigma: np.ndarray,
              r: float = RISK_FREE_RATE) -> np.ndarray:
    """European Black-Scholes values of a batch (T > 0 and sigma > 0 everywhere)."""
    vol_t = sigma * np.sqrt(t_years)
    d1 = (np.log(spot / strike) + (r + 0.5 * sigma * sigma) * t_years) / vol_t
    n = ncdf_array(np.stack((d1, d1 - vol_t)))
    disc = strike * np.exp(-r * t_years)
    call = spot * n[0] - disc * n[1]
    return np.where(put, call - spot + disc, call)


def _puts_2002(spot: np.ndarray, strike: np.ndarray, t: np.ndarray, v: np.ndarray, r: float) -> np.ndarray:
    """``_call_2002(K, S, T, 0, -r, sigma)`` for arrays (the transformed call's spot is K, its strike S);
    the six phi and five psi terms are stacked on a leading axis so each step is one numpy pass."""
    s, x, b = strike, spot, -r              # rate 0 after the transformation
    v2 = v * v
    t1 = _T1 * t
    beta = (0.5 - b / v2) + np.sqrt((b / v2 - 0.5) ** 2)
    b_inf = beta / (beta - 1.0) * x
    scale = x / (b_inf - x)                 # X² / ((B∞ - B0) B0) with B0 = max(X, 0 / (0 - b) X) = X
    i1 = x + (b_inf - x) * (1.0 - np.exp(-(b * t1 + 2.0 * v * np.sqrt(t1)) * scale))
    i2 = x + (b_inf - x) * (1.0 - np.exp(-(b * t + 2.0 * v * np.sqrt(t)) * scale))
    ls, lx, li1, li2 = np.log(s), np.log(x), np.log(i1), np.log(i2)
    sd1, sd2 = v * np.sqrt(t1), v * np.sqrt(t)
    one, zero = np.ones_like(s), np.zeros_like(s)

    ln_a1 = np.log(i1 - x) - beta * li1     # alpha_i = (I_i - X) I_i^-beta, folded into the beta terms
    ln_a2 = np.log(i2 - x) - beta * li2
    # alpha phi(S, t1, gamma, H, I2) for (gamma, H, alpha) = (beta, I2, a2) (1, I2, 1) (1, I1, 1) (0, I2, 1)
    # (0, I1, 1) (beta, I1, a1).
    g = np.stack((beta, one, one, zero, zero, beta))
    lh = np.stack((li2, li2, li1, li2, li1, li1))
    d = -((ls - lh) + (b + (g - 0.5) * v2) * t1) / sd1
    ln_pre = (g * b + 0.5 * g * (g - 1.0) * v2) * t1 + g * ls + np.stack((ln_a2, zero, zero, zero, zero, ln_a1))
    phi_pre = np.exp(ln_pre)
    phi_pow = np.exp(ln_pre + (2.0 * b / v2 + 2.0 * g - 1.0) * (li2 - ls))
    # alpha psi(S, T, gamma, H, I2, I1, t1) for (gamma, H, alpha) = (beta, I1, a1) (1, I1, 1) (1, X, 1)
    # (0, I1, 1) (0, X, 1).
    g = np.stack((beta, one, one, zero, zero))
    lh = np.stack((li1, li1, lx, li1, lx))
    m = b + (g - 0.5) * v2
    kappa = 2.0 * b / v2 + 2.0 * g - 1.0
    ln_psi = (g * b + 0.5 * g * (g - 1.0) * v2) * t + g * ls + np.stack((ln_a1, zero, zero, zero, zero))
    # M(a, b; -rho) = N(a) - M(a, -b; rho): every bivariate term at +rho.
    bv_a = -np.stack(((ls - li1 + m * t1) / sd1, (2.0 * li2 - ls - li1 + m * t1) / sd1,
                      (ls - li1 - m * t1) / sd1, (2.0 * li2 - ls - li1 - m * t1) / sd1))
    bv_b = np.stack((-(ls - lh + m * t) / sd2, -(2.0 * li2 - ls - lh + m * t) / sd2,
                     (2.0 * li1 - ls - lh + m * t) / sd2, (ls + 2.0 * li1 - lh - 2.0 * li2 + m * t) / sd2))
    n_all = ncdf_array(np.concatenate((d, d - 2.0 * (li2 - ls) / sd1, bv_a.reshape(20, -1), bv_b.reshape(20, -1))))
    n_d, n_d2, n_a, n_b = n_all[:6], n_all[6:12], n_all[12:32].reshape(4, 5, -1), n_all[32:].reshape(4, 5, -1)
    quad = np.exp(((bv_a * bv_b)[..., None] * (2.0 * _NODE_S) - (bv_a * bv_a + bv_b * bv_b)[..., None])
                  * _NODE_C) @ _NODE_W
    bvn = n_a * n_b + quad
    phi = phi_pre * n_d - phi_pow * n_d2
    psi = (np.exp(ln_psi) * bvn[0] - np.exp(ln_psi + kappa * (li2 - ls)) * bvn[1]
           - np.exp(ln_psi + kappa * (li1 - ls)) * (n_a[2] - bvn[2])
           + np.exp(ln_psi + kappa * (li1 - li2)) * (n_a[3] - bvn[3]))
    value = (np.exp(ln_a2 + beta * ls) - phi[0] + phi[1] - phi[2] - x * phi[3] + x * phi[4] + phi[5]
             - psi[0] + psi[1] - psi[2] - x * psi[3] + x * psi[4])
    return np.where(s >= i2, s - x, value)


def american_prices(put: np.ndarray, spot: np.ndarray, strike: np.ndarray, t_years: np.ndarray, sigma: np.ndarray,
                    r: float = RISK_FREE_RATE) -> np.ndarray:
    """``american_price`` of every element (T > 0 and sigma > 0 everywhere)."""
    put = np.asarray(put, dtype=bool)
    value = bs_prices(put, spot, strike, t_years, sigma, r)
    if put.any():
        idx = np.flatnonzero(put)
        s, k = spot[idx], strike[idx]
        am = _puts_2002(s, k, t_years[idx], sigma[idx], r)
        value[idx] = np.maximum(np.maximum(am, value[idx]), k - s)
    return value
