"""Run the live options ingest service: ``python -m options_svc [--replica I --replicas N] [--speed X]``."""

from __future__ import annotations

import sys

from options_svc.service import SERVICE, OptionsTape
from synthmarket.infra.ingest_main import main

if __name__ == "__main__":
    sys.exit(main(SERVICE, OptionsTape, "OPTIONS"))
