"""Command line of the application package: `python -m bot …` or `bruecke …`."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from bot.settings import PROJECT_ROOT


def _content_check(args: argparse.Namespace) -> int:
    from bot.content_check import check, render

    report = check(root=args.root, accuracy_file=args.accuracy)
    print(render(report))
    return 0 if report.ok else 1


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="bruecke", description="Brücke maintenance commands")
    sub = parser.add_subparsers(dest="command", required=True)
    cc = sub.add_parser("content-check", help="what is missing per language (exit 1 if any)")
    cc.add_argument("--accuracy", type=Path, default=None,
                    help="evaluation JSON from `python -m tools.evaluate --json FILE`")
    cc.add_argument("--root", type=Path, default=PROJECT_ROOT, help=argparse.SUPPRESS)
    cc.set_defaults(func=_content_check)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
