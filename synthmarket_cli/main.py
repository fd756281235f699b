"""The ``synthmarket`` command line: one table of subcommands, each a module imported on demand."""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Sequence
from types import ModuleType

from synthmarket import __version__
from synthmarket.settings import SettingsError, load_settings

# Subcommand name -> module exposing ``add_arguments(parser)`` and ``run(args) -> int``.
# The module's docstring first line is the command's one-line help. Add a command with one line.
COMMANDS: dict[str, str] = {
    "up": "synthmarket_cli.up",
    "simulate": "synthmarket_cli.simulate",
    "status": "synthmarket_cli.status",
    "flow": "synthmarket_cli.flow",
}

PROG = "synthmarket"


def _selected_command(argv: Sequence[str]) -> str | None:
    # Top-level options take no values, so the first positional word is the command.
    for word in argv:
        if not word.startswith("-"):
            return word if word in COMMANDS else None
    return None


def _summary(module: ModuleType) -> str:
    doc = (module.__doc__ or "").strip()
    return doc.splitlines()[0] if doc else ""


def build_parser(argv: Sequence[str]) -> argparse.ArgumentParser:
    """The parser for ``argv``: only the chosen command's module is imported.

    Without a known command (``--help``, a typo) every command is loaded so the help lists them
    all; one that fails to import is listed as unavailable instead of breaking the others.
    """
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="A synthetic US options and equities market with a smart-money flow classifier.",
    )
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    chosen = _selected_command(argv)
    for name, module_path in COMMANDS.items():
        if chosen is not None and name != chosen:
            sub.add_parser(name, help=f"(see `{PROG} {name} --help`)")
            continue
        try:
            module = importlib.import_module(module_path)
        except ImportError as exc:
            if chosen == name:
                raise
            sub.add_parser(name, help=f"(unavailable: {exc})")
            continue
        command = sub.add_parser(name, help=_summary(module), description=_summary(module))
        module.add_arguments(command)
        command.set_defaults(_run=module.run)
    return parser


def _configure_logging(level_name: str) -> None:
    level = getattr(logging, level_name, None)
    if not isinstance(level, int):
        raise SettingsError(f"LOG_LEVEL must be DEBUG, INFO, WARNING or ERROR, got {level_name!r}")
    logging.basicConfig(
        level=level,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser(argv)
    args = parser.parse_args(argv)
    try:
        _configure_logging(load_settings().log_level)
    except SettingsError as exc:
        parser.error(str(exc))  # exits 2, like any other bad option
    return int(args._run(args))


if __name__ == "__main__":
    sys.exit(main())
