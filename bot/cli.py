"""Command line of the application package: `python -m bot …` or `bruecke …`."""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path
from typing import Any

from bot.settings import PROJECT_ROOT


def _day(value: str) -> dt.date:
    """--today YYYY-MM-DD."""
    try:
        return dt.date.fromisoformat(value)
    except ValueError as error:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {value}") from error


def _content_check(args: argparse.Namespace) -> int:
    from bot.content_check import check, render

    report = check(root=args.root, today=args.today, accuracy_file=args.accuracy)
    print(render(report))
    return 0 if report.ok else 1


def _answers(args: argparse.Namespace) -> int:
    """Every response in one language as it would be sent on that day."""
    import json

    from bot.texts import profession_group, render, response_names

    if args.profession and profession_group(args.profession) is None:
        print(f"unknown profession '{args.profession}' (see data/professions/groups.yml)",
              file=sys.stderr)
        return 2
    out: dict[str, dict[str, Any]] = {}
    for name in response_names():
        r = render(name, args.lang, today=args.today, profession=args.profession)
        out[name] = {"text": r.text,
                     "buttons": [{"title": t, "payload": p} for t, p in r.buttons]}
    if args.json:
        print(json.dumps(out, ensure_ascii=False, indent=1))
        return 0
    for name, message in out.items():
        print(f"== {name}")
        print(message["text"])
        for button in message["buttons"]:
            print(f"  [{button['title']}] {button['payload']}")
        print()
    return 0


def _add_answers_commands(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """`content-check` and `answers`: the texts as of a day."""
    cc = sub.add_parser("content-check", help="what is missing per language (exit 1 if any)")
    cc.add_argument("--accuracy", type=Path, default=None,
                    help="evaluation JSON from `python -m tools.evaluate --json FILE`")
    cc.add_argument("--today", type=_day, default=None,
                    help="check as of this day (YYYY-MM-DD; default: today)")
    cc.add_argument("--root", type=Path, default=PROJECT_ROOT, help=argparse.SUPPRESS)
    cc.set_defaults(func=_content_check)

    from bot.languages import registry

    an = sub.add_parser("answers", help="every response in a language as sent on a day")
    an.add_argument("--lang", required=True, choices=list(registry().codes))
    an.add_argument("--today", type=_day, default=None,
                    help="render as of this day (YYYY-MM-DD; default: today)")
    an.add_argument("--profession", default=None,
                    help="profession key or canonical profession (data/professions/groups.yml)")
    an.add_argument("--json", action="store_true",
                    help="print JSON: response name -> {text, buttons}")
    an.set_defaults(func=_answers)


def _directory_import(args: argparse.Namespace) -> int:
    from bot.db.session import session_scope
    from bot.directory import DirectoryError, import_file

    try:
        with session_scope() as session:
            result = import_file(session, args.file)
    except DirectoryError as error:
        print(f"{args.file}: nothing imported, {len(error.problems)} problem(s):",
              file=sys.stderr)
        for problem in error.problems:
            print(f"  {problem}", file=sys.stderr)
        return 1
    print(f"imported {result.organisations} organisation(s), {result.counsellors} "
          "counsellor(s)")
    return 0


def _directory_list(args: argparse.Namespace) -> int:
    from bot.db.session import session_scope
    from bot.directory import list_counsellors

    with session_scope() as session:
        for c in list_counsellors(session):
            state = "active" if c.active else "inactive"
            print(f"{c.id:16} {c.organisation_id:16} {','.join(c.languages):12} "
                  f"{','.join(c.topics):40} {','.join(c.effective_regions):10} "
                  f"cap {c.capacity:<3} {state:8} {c.hours}")
    return 0


def _route(args: argparse.Namespace) -> int:
    import datetime as dt
    import json

    from bot.cases import candidates_for
    from bot.db.session import session_scope
    from bot.routing import Request

    at = dt.datetime.fromisoformat(args.at) if args.at else dt.datetime.now(dt.timezone.utc)
    if at.tzinfo is None:
        from bot.hours import BERLIN

        at = at.replace(tzinfo=BERLIN)  # a time without zone is Berlin time, as office hours
    region = None if args.region in (None, "", "unknown", "abroad") else args.region.upper()
    request = Request(args.language, args.topic, region,
                      other_languages=tuple(args.also_speaks or ()),
                      accept_other_language=args.accept_other_language)
    with session_scope() as session:
        candidates = candidates_for(session, request, at=at)
    if args.json:
        print(json.dumps([c.as_dict() for c in candidates], ensure_ascii=False, indent=1))
    elif not candidates:
        print("no counsellor matches")
    else:
        for rank, c in enumerate(candidates, 1):
            print(f"{rank}. {c.counsellor_id} ({c.organisation_id}): {'; '.join(c.reasons)}")
    return 0


def _db(args: argparse.Namespace) -> int:
    from bot.db.migrate import downgrade, upgrade
    from bot.db.session import make_engine
    from bot.settings import get_settings

    engine = make_engine(get_settings().database_url)
    (upgrade if args.action == "upgrade" else downgrade)(engine, args.revision)
    print(f"database {args.action}d to {args.revision}")
    return 0


def _purge(args: argparse.Namespace) -> int:
    import datetime as dt

    from bot.retention import purge_expired

    now = (dt.datetime.combine(dt.date.fromisoformat(args.today), dt.time(),
                               tzinfo=dt.timezone.utc) if args.today else None)
    result = purge_expired(now=now, dry_run=args.dry_run)
    verb = "would delete" if args.dry_run else "deleted"
    print(f"{verb}: " + ", ".join(f"{name.replace('_', ' ')} {n}"
                                  for name, n in result.as_dict().items()))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="bruecke", description="Brücke maintenance commands")
    sub = parser.add_subparsers(dest="command", required=True)
    _add_answers_commands(sub)

    directory = sub.add_parser("directory", help="counsellor directory")
    dsub = directory.add_subparsers(dest="directory_command", required=True)
    imp = dsub.add_parser("import", help="upsert organisations and counsellors from YAML")
    imp.add_argument("file", type=Path)
    imp.set_defaults(func=_directory_import)
    dsub.add_parser("list", help="list counsellors").set_defaults(func=_directory_list)

    r = sub.add_parser("route", help="which counsellors fit a request, best first, with reasons")
    r.add_argument("--language", required=True, help="ISO 639-1 code of the person")
    r.add_argument("--topic", required=True,
                   choices=["recognition", "visa", "entry", "integration"])
    r.add_argument("--region", default=None, help="state code (BY, NW, …) or 'unknown'")
    r.add_argument("--at", default=None, help="ISO-8601 time (default now; no zone = Berlin)")
    r.add_argument("--also-speaks", nargs="*", help="further languages the person speaks")
    r.add_argument("--accept-other-language", action="store_true",
                   help="the person agreed to a counsellor in another language")
    r.add_argument("--json", action="store_true", help="print JSON")
    r.set_defaults(func=_route)

    db = sub.add_parser("db", help="database migrations")
    db.add_argument("action", choices=["upgrade", "downgrade"])
    db.add_argument("revision", nargs="?", default=None)
    db.set_defaults(func=lambda a: _db(argparse.Namespace(
        action=a.action, revision=a.revision or ("head" if a.action == "upgrade" else "base"))))

    purge = sub.add_parser("purge", help="delete closed cases and idle conversations past "
                                         "their retention time (RETENTION_*_DAYS)")
    purge.add_argument("--today", default=None, help="YYYY-MM-DD to compute the ages from")
    purge.add_argument("--dry-run", action="store_true", help="count only, delete nothing")
    purge.set_defaults(func=_purge)
    return parser


def main(argv: list[str] | None = None) -> int:
    from bot import logs
    from bot.db.migrate import SchemaNotCurrentError
    from bot.settings import MissingSettingError

    args = build_parser().parse_args(argv)
    logs.setup()
    try:
        return int(args.func(args))
    except (SchemaNotCurrentError, MissingSettingError) as error:
        print(error, file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
