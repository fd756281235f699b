"""Black-Scholes, the IV surface and the option NBBO: bounds, parity, monotonicity, the price grid, widths."""

from __future__ import annotations

import math

import numpy as np
import pytest

from options_svc import american, pricing
from synthmarket.domain import chain
from synthmarket.domain.chain import RISK_FREE_RATE
from synthmarket.domain.regimes import Regime, SessionPhase
from synthmarket.domain.session import SessionState, UnderlyingState


def _session(regime: Regime = Regime.MEAN_REVERT, events: tuple[str, ...] = (), clean: float = 0.8,
             liquidity: float = 0.7, phase: SessionPhase = SessionPhase.MIDDAY, minute: float = 200.0) -> SessionState:
    return SessionState(ts=0, session_phase=phase, regime=regime, volatility_level=1.0, liquidity_level=liquidity,
                        quote_cleanliness=clean, focus_symbols=(), event_symbols=events, seed_bucket=0,
                        minute_of_session=minute)


def _ul(symbol: str = "AAPL", price: float = 100.0, iv: float = 0.3, skew: float = -0.15,
        spread_z: float = 0.0, shock: float = 0.02) -> UnderlyingState:
    return UnderlyingState(symbol, 0, price, price - 0.01, price + 0.01, 1.0, iv, 0.0, 0.0, spread_z, shock, iv, skew)


TENORS = (0.5 / 8760, 1 / 365, 3 / 365, 10 / 365, 30 / 365, 90 / 365, 1.0, 2.0)


@pytest.mark.parametrize("regime", list(Regime))
@pytest.mark.parametrize("skew,iv", [(-0.35, 0.6), (-0.15, 0.25), (0.05, 1.0), (-0.05, 0.12)])
def test_surface_prices_monotone_and_convex_in_strike(regime, skew, iv):
    for event in (False, True):
        surf = pricing.surface_for(_ul(iv=iv, skew=skew), _session(regime, ("AAPL",) if event else ()))
        for t in TENORS:
            strikes = [50 + 0.5 * k for k in range(201)]
            for right in "CP":
                px = [pricing.bs_price(right, 100.0, k, t, surf.iv(k, t, event)) for k in strikes]
                for a, b in zip(px, px[1:]):
                    assert (b <= a + 1e-9) if right == "C" else (b >= a - 1e-9)
                for a, b, c in zip(px, px[1:], px[2:]):
                    assert a - 2 * b + c >= -1e-7, "butterflies are never negative"


@pytest.mark.parametrize("right", "CP")
def test_bs_bounds_and_put_call_parity(right):
    for spot, strike, t, sigma in [(100, 80, 0.1, 0.3), (100, 120, 1.0, 0.5), (585, 585, 1 / 365, 0.15), (44, 30, 2.0, 0.9)]:
        price = pricing.bs_price(right, spot, strike, t, sigma)
        disc = strike * math.exp(-RISK_FREE_RATE * t)  # no-arbitrage bounds of a European option, q = 0
        lo, hi = (max(0.0, spot - disc), spot) if right == "C" else (max(0.0, disc - spot), disc)
        assert lo - 1e-9 <= price <= hi + 1e-9
    c = pricing.bs_price("C", 100, 95, 0.25, 0.4)
    p = pricing.bs_price("P", 100, 95, 0.25, 0.4)
    assert c - p == pytest.approx(100 - 95 * math.exp(-RISK_FREE_RATE * 0.25), abs=1e-9)


def _width(root: str, spot: float, strike: float, t: float, sigma: float, **terms) -> float:
    spread_z = terms.pop("spread_z", 0.0)
    q = pricing.make_quote(root, "C", spot, strike, t, sigma, pricing.quote_terms(_ul(root, spot, spread_z=spread_z),
                                                                                   _session(**terms)))
    return q.ask - q.bid


@pytest.mark.parametrize("root,spot", [("SPY", 585.0), ("AAPL", 228.0), ("BAC", 44.0), ("COIN", 290.0), ("PLTR", 62.0)])
def test_quotes_sit_on_the_grid_at_least_a_tick_wide_and_never_below_intrinsic(root, spot):
    terms = pricing.quote_terms(_ul(root, spot), _session())
    seen_ticks = set()
    for k_frac in (0.6, 0.8, 0.9, 0.97, 1.0, 1.03, 1.1, 1.25, 1.6):
        for t in TENORS:
            for right in "CP":
                strike = round(spot * k_frac, 1)
                q = pricing.make_quote(root, right, spot, strike, t, 0.35, terms)
                intrinsic = max(spot - strike if right == "C" else strike - spot, 0.0)
                assert chain.on_grid(root, q.bid) and chain.on_grid(root, q.ask), (root, q)
                assert q.bid >= 0.0 and q.ask >= q.theo - 1e-9 and q.ask >= chain.tick_size(root, 0.0)
                assert q.ask - q.bid >= chain.tick_size(root, q.bid) - 1e-9, "at least one tick wide"
                if intrinsic > 0.0:
                    assert q.bid >= chain.grid_ceil(root, intrinsic) - 1e-9, "the bid never sits below intrinsic"
                else:
                    assert q.bid <= q.theo + 1e-9
                seen_ticks.add(chain.tick_size(root, q.ask))
    # Penny names at every price; program names a nickel from $3; the rest a nickel, then a dime.
    assert seen_ticks == {"SPY": {0.01}, "AAPL": {0.01, 0.05}, "BAC": {0.01, 0.05}, "COIN": {0.05, 0.1},
                          "PLTR": {0.05, 0.1}}[root]


def test_grid_by_name_and_price():
    assert [chain.tick_size("SPY", p) for p in (0.5, 3.0, 40.0)] == [0.01, 0.01, 0.01]
    assert [chain.tick_size("AAPL", p) for p in (2.99, 3.0, 40.0)] == [0.01, 0.05, 0.05]
    assert [chain.tick_size("COIN", p) for p in (2.95, 3.0, 40.0)] == [0.05, 0.1, 0.1]
    assert chain.grid_ceil("AAPL", 2.995) == 3.0 and chain.grid_ceil("AAPL", 3.01) == 3.05
    assert chain.grid_floor("COIN", 3.19) == 3.1 and chain.grid_floor("COIN", 2.99) == 2.95
    assert chain.on_grid("AAPL", 2.97) and not chain.on_grid("AAPL", 3.02) and not chain.on_grid("COIN", 3.05)


@pytest.mark.parametrize("root,spot,sigma", [("SPY", 585.0, 0.14), ("QQQ", 505.0, 0.18)])
def test_near_term_at_the_money_index_options_are_one_or_two_cents_wide_midday(root, spot, sigma):
    for dte in (0.1, 1, 2, 3, 5, 7):
        for k in (spot - 2, spot - 1, round(spot), spot + 1, spot + 2):
            width = _width(root, spot, k, dte / 365, sigma)
            assert 0.01 - 1e-9 <= width <= 0.02 + 1e-9, (root, dte, k, width)


def test_width_grows_with_price_vega_tenor_thin_names_the_open_and_wide_regimes():
    calm = dict(clean=0.95, liquidity=0.9)
    # Tenor (price and vega grow with it).
    widths = [_width("SPY", 585.0, 585.0, d / 365, 0.15, **calm) for d in (2, 30, 120, 365)]
    assert widths == sorted(widths) and widths[-1] >= 8 * widths[0], widths
    # A thin name quotes the same option wider than an index ETF.
    assert _width("COIN", 290.0, 290.0, 30 / 365, 0.7, **calm) >= 2 * _width("QQQ", 290.0, 290.0, 30 / 365, 0.7, **calm) - 1e-9
    # The open and a thin, dirty, wide-stock regime widen quotes.
    base = _width("AAPL", 228.0, 230.0, 60 / 365, 0.3, **calm)
    assert _width("AAPL", 228.0, 230.0, 60 / 365, 0.3, minute=1.0, **calm) >= 1.5 * base
    assert _width("AAPL", 228.0, 230.0, 60 / 365, 0.3, clean=0.4, liquidity=0.3, spread_z=2.0) >= 2 * base


def test_mid_prints_are_on_the_grid_or_at_the_half_tick_of_a_one_tick_quote():
    assert pricing.mid_price("SPY", 1.23, 1.24) == 1.235
    assert pricing.mid_price("SPY", 1.23, 1.25) == 1.24
    assert pricing.mid_price("AAPL", 4.10, 4.25) in (4.15, 4.2)
    for bid, ask in ((1.23, 1.24), (1.23, 1.26), (4.10, 4.25), (4.10, 4.30)):
        assert chain.side_of(pricing.mid_price("AAPL" if bid > 3 else "SPY", bid, ask), bid, ask, 0) == chain.SIDE_MID


def test_front_expiries_richer_in_retail_and_event_regimes():
    t_front, t_back = 2 / 365, 120 / 365
    calm = pricing.surface_for(_ul(), _session(Regime.ARB_CALM))
    chase = pricing.surface_for(_ul(), _session(Regime.RETAIL_CHASE))
    assert chase.iv(100, t_front) - chase.iv(100, t_back) > calm.iv(100, t_front) - calm.iv(100, t_back) + 0.03


def test_event_premium_until_the_event_then_crush():
    before = pricing.surface_for(_ul(), _session(events=("AAPL",)))
    after = pricing.surface_for(_ul(), _session(events=("AAPL",), phase=SessionPhase.AFTER_EVENT))
    t = 7 / 365
    assert before.iv(100, t, event_expiry=True) > before.iv(100, t) + 0.05
    assert after.iv(100, t, event_expiry=True) == pytest.approx(after.iv(100, t))
    assert pricing.surface_for(_ul(), _session(events=("AAPL",)), pending_event=False).event_move == 0.0


def test_put_skew_makes_downside_strikes_richer():
    surf = pricing.surface_for(_ul(skew=-0.2), _session())
    assert surf.iv(90, 30 / 365) > surf.iv(100, 30 / 365) > surf.iv(105, 30 / 365) - 0.02


def test_the_array_quotes_and_vegas_are_the_scalar_ones_element_by_element():
    # Fixed seed; every root kind (pennies at every price, the Penny Program, nickels and dimes), deep
    # in and far out of the money, from a day to a year out: exactly equal floats, no tolerance.
    g = np.random.default_rng(20261204)
    n = 20_000
    roots = [("SPY", "AAPL", "XOM")[i] for i in g.integers(0, 3, n)]
    spot = g.uniform(5.0, 900.0, n)
    strike = spot * np.exp(g.normal(0.0, 0.25, n))
    t = g.uniform(1 / 365, 1.0, n)
    sigma = g.uniform(0.08, 1.2, n)
    theo = np.maximum(spot - strike, 0.0) + g.exponential(3.0, n) * g.uniform(0.0, 1.0, n) ** 3
    intrinsic = np.maximum(spot - strike, 0.0)
    scale = g.uniform(0.3, 4.0, n)
    vega = american.bs_vegas(spot, strike, t, sigma)
    assert vega.tolist() == [american.bs_vega(*args) for args in zip(spot, strike, t, sigma)]
    bid, ask = pricing.quotes_around(theo, intrinsic, vega, t, scale, roots)
    expected = [pricing.quote_around(*args[:5], pricing.QuoteTerms(root, args[5]))
                for *args, root in zip(theo, intrinsic, vega, t, sigma, scale, roots)]
    assert bid == [q.bid for q in expected] and ask == [q.ask for q in expected]
