"""Black-Scholes, the IV surface and the option NBBO: bounds, parity, monotonicity, tick grid."""

from __future__ import annotations

import math

import pytest

from options_svc import pricing
from synthmarket.domain.chain import RISK_FREE_RATE
from synthmarket.domain.regimes import Regime, SessionPhase
from synthmarket.domain.session import SessionState, UnderlyingState


def _session(regime: Regime = Regime.MEAN_REVERT, events: tuple[str, ...] = (), clean: float = 0.8,
             liquidity: float = 0.7, phase: SessionPhase = SessionPhase.MIDDAY) -> SessionState:
    return SessionState(ts=0, session_phase=phase, regime=regime, volatility_level=1.0, liquidity_level=liquidity,
                        quote_cleanliness=clean, focus_symbols=(), event_symbols=events, seed_bucket=0)


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


def test_quotes_are_symmetric_penny_and_at_least_two_ticks_wide():
    for theo_strike in (60, 90, 100, 110, 140):
        for z in (-1.0, 0.0, 3.0):
            q = pricing.make_quote("C", 100.0, theo_strike, 30 / 365, 0.3,
                                   pricing.spread_fraction(_ul(spread_z=z), _session()))
            assert round(q.bid, 2) == q.bid and round(q.ask, 2) == q.ask
            assert q.ask - q.bid >= 0.02 - 1e-9
            if q.bid > 0:
                assert q.mid == pytest.approx((q.bid + q.ask) / 2, abs=1e-9), "mid is on the penny grid"
                assert abs(q.mid - q.theo) <= 0.005 + 1e-9


def test_spread_widens_with_spread_z_thin_books_and_dirty_quotes():
    tight = pricing.spread_fraction(_ul(spread_z=-0.5), _session(clean=1.0, liquidity=1.0))
    wide = pricing.spread_fraction(_ul(spread_z=2.0), _session(clean=0.3, liquidity=0.2))
    assert wide > 2.0 * tight


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
