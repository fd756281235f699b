"""Run the smart-money flow service on the session so far, then live (what `up` and the deployment run)."""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Sequence
from typing import Any

import flow_svc.__main__ as flow_main
from options_svc.generator import OptionsGenerator
from options_svc.known_control import KnownControlSteps, known_at
from synthmarket.domain.control_timeline import Control
from synthmarket.domain.marketdata import OptionPrint
from synthmarket.infra.ingest import UniverseEngine


class OptionsHistory:
    """The options tape of one session from its open, exactly as the live options service publishes it
    (the same generator on the same universe); the hidden labels are dropped every step."""

    def __init__(self, control: Control, universe: Sequence[str], open_ms: int, **options: Any) -> None:
        # ``options``: the generator's keyword settings (tests pass ordinary_scale=0: events alone).
        self._generator = OptionsGenerator(known_at(control, open_ms), universe, start_ts=open_ms,
                                           engine=UniverseEngine(universe), **options)
        self._steps = KnownControlSteps(self._generator, control, open_ms)

    def step(self, t0_ms: int, t1_ms: int) -> list[OptionPrint]:
        prints = self._steps.step(t0_ms, t1_ms)
        self._generator.pop_labels()
        self._generator.pop_scenarios()
        return prints


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.epilog = ("Replays the session from the open to now (the same events, ids and timestamps a service "
                     "running since the open published), publishes what the SMART_MONEY stream lacks, then "
                     "classifies the live option prints. Configured by the environment, like every service.")


def run(args: argparse.Namespace) -> int:
    asyncio.run(flow_main.main(history=OptionsHistory, program="synthmarket flow"))
    return 0
