"""Rebuild the committed protobuf/gRPC stubs in synthmarket/v1 from protos/, or check they are current."""

from __future__ import annotations

import argparse
import filecmp
import sys
import tempfile
from importlib import resources
from pathlib import Path

from grpc_tools import protoc

ROOT = Path(__file__).resolve().parent.parent
PROTO_ROOT = ROOT / "protos"
PACKAGE_DIR = Path("synthmarket") / "v1"
# Suffixes protoc writes; anything else in the package (e.g. __init__.py) is hand-written.
GENERATED_SUFFIXES = ("_pb2.py", "_pb2.pyi", "_pb2_grpc.py")


def proto_files() -> list[Path]:
    return sorted((PROTO_ROOT / PACKAGE_DIR).glob("*.proto"))


def generate(out_dir: Path) -> None:
    """Run protoc for every .proto into ``out_dir`` (which mirrors the repository root)."""
    files = proto_files()
    if not files:
        raise SystemExit(f"no .proto files under {PROTO_ROOT / PACKAGE_DIR}")
    # The well-known types (google/protobuf/*.proto) ship inside grpc_tools.
    well_known = str(resources.files("grpc_tools") / "_proto")
    args = [
        "grpc_tools.protoc",
        f"-I{PROTO_ROOT}",
        f"-I{well_known}",
        f"--python_out={out_dir}",
        f"--pyi_out={out_dir}",
        f"--grpc_python_out={out_dir}",
        *(str(f.relative_to(PROTO_ROOT)) for f in files),
    ]
    # protoc resolves the relative proto paths against the -I roots, not the cwd.
    code = protoc.main(args)
    if code != 0:
        raise SystemExit(f"protoc failed with exit code {code}")


def _generated_names(directory: Path) -> set[str]:
    if not directory.is_dir():
        return set()
    return {p.name for p in directory.iterdir() if p.name.endswith(GENERATED_SUFFIXES)}


def stale_files(repo_root: Path = ROOT) -> list[str]:
    """Regenerate into a temporary tree and return the committed files that differ from it."""
    with tempfile.TemporaryDirectory() as tmp:
        fresh_dir = Path(tmp) / PACKAGE_DIR
        fresh_dir.mkdir(parents=True)
        generate(Path(tmp))
        committed_dir = repo_root / PACKAGE_DIR
        fresh = _generated_names(fresh_dir)
        committed = _generated_names(committed_dir)
        problems: list[str] = []
        for name in sorted(fresh | committed):
            path = str(PACKAGE_DIR / name)
            if name not in committed:
                problems.append(f"{path} (missing)")
            elif name not in fresh:
                problems.append(f"{path} (no longer generated)")
            elif not filecmp.cmp(fresh_dir / name, committed_dir / name, shallow=False):
                problems.append(f"{path} (stale)")
        return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--check", action="store_true", help="exit 1 listing stubs that differ from a fresh build")
    args = parser.parse_args(argv)
    if args.check:
        problems = stale_files()
        if problems:
            print("generated stubs are out of date; run `python scripts/gen_protos.py`:")
            for line in problems:
                print(f"  {line}")
            return 1
        print("generated stubs are up to date")
        return 0
    out_dir = ROOT / PACKAGE_DIR
    for name in _generated_names(out_dir):
        (out_dir / name).unlink()  # so a removed .proto leaves no orphan stubs behind
    generate(ROOT)
    print(f"generated {len(_generated_names(out_dir))} files in {PACKAGE_DIR}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
