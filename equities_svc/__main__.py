"""Run the live equities ingest service: ``python -m equities_svc [--replica I --replicas N] [--speed X]``."""

from __future__ import annotations

import sys

from equities_svc.service import SERVICE, EquitiesTape
from synthmarket.infra.ingest_main import main

if __name__ == "__main__":
    sys.exit(main(SERVICE, EquitiesTape, "EQUITIES"))
