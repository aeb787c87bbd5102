"""The counsellor directory: import from YAML (all-or-nothing, errors with position and
field; counsellors missing from the file are deactivated and their open cases offered again),
list, and finding a counsellor by Telegram user id."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.db.models import Counsellor, Organisation
from bot.hours import HoursError, parse_hours

STATES = frozenset(
    ["BW", "BY", "BE", "BB", "HB", "HH", "HE", "MV", "NI", "NW", "RP", "SL", "SN", "ST", "SH", "TH"]
)
NATIONWIDE = "DE"
TOPICS = ("recognition", "visa", "entry", "integration")


class DirectoryError(ValueError):
    """A bad directory file; `problems` lists every entry and field that is wrong."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class ImportResult:
    organisations: int
    counsellors: int
    deactivated: tuple[str, ...] = ()  # counsellor ids no longer in the file
    reoffered: tuple[int, ...] = ()  # their open cases, offered again


def _check_list(value: Any, where: str, allowed: frozenset[str] | None,
                problems: list[str], what: str) -> list[str]:
    if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
        problems.append(f"{where}: must be a non-empty list of {what}")
        return []
    if allowed is not None:
        for v in value:
            if v not in allowed:
                problems.append(f"{where}: '{v}' is not a valid {what[:-1]}")
    return list(value)


def validate(data: Any) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Check a parsed directory file; raise DirectoryError naming every bad entry."""
    problems: list[str] = []
    if not isinstance(data, dict):
        raise DirectoryError(["file: must be a mapping with 'organisations' and 'counsellors'"])
    orgs_raw = data.get("organisations") or []
    couns_raw = data.get("counsellors") or []
    regions_allowed = STATES | {NATIONWIDE}
    languages_allowed = frozenset(_iso_639_1())
    orgs: list[dict[str, Any]] = []
    seen_orgs: set[str] = set()
    for i, org in enumerate(orgs_raw):
        where = f"organisations[{i}]"
        if not isinstance(org, dict):
            problems.append(f"{where}: must be a mapping")
            continue
        oid, name = org.get("id"), org.get("name")
        if not isinstance(oid, str) or not oid.strip():
            problems.append(f"{where}.id: missing")
        elif oid in seen_orgs:
            problems.append(f"{where}.id: '{oid}' appears twice")
        if not isinstance(name, str) or not name.strip():
            problems.append(f"{where}.name: missing")
        org_regions = _check_list(org.get("regions"), f"{where}.regions", regions_allowed,
                                  problems, "state codes")
        if isinstance(oid, str):
            seen_orgs.add(oid)
        orgs.append({"id": oid, "name": name, "regions": org_regions})
    couns: list[dict[str, Any]] = []
    seen: set[str] = set()
    seen_chats: set[int] = set()
    for i, c in enumerate(couns_raw):
        where = f"counsellors[{i}]"
        if not isinstance(c, dict):
            problems.append(f"{where}: must be a mapping")
            continue
        cid = c.get("id")
        if not isinstance(cid, str) or not cid.strip():
            problems.append(f"{where}.id: missing")
        elif cid in seen:
            problems.append(f"{where}.id: '{cid}' appears twice")
        else:
            seen.add(cid)
        if not isinstance(c.get("name"), str) or not c["name"].strip():
            problems.append(f"{where}.name: missing")
        if c.get("organisation") not in seen_orgs:
            problems.append(f"{where}.organisation: '{c.get('organisation')}' is not an "
                            "organisation of this file")
        languages = _check_list(c.get("languages"), f"{where}.languages", languages_allowed,
                                problems, "ISO 639-1 codes")
        topics = _check_list(c.get("topics"), f"{where}.topics", frozenset(TOPICS), problems,
                             "topics")
        regions: list[str] | None = None
        if c.get("regions") is not None:
            regions = _check_list(c.get("regions"), f"{where}.regions", regions_allowed,
                                  problems, "state codes")
        capacity = c.get("capacity", 5)
        if not isinstance(capacity, int) or isinstance(capacity, bool) or capacity < 0:
            problems.append(f"{where}.capacity: must be a whole number ≥ 0")
        hours = c.get("hours", "")
        try:
            parse_hours(str(hours))
        except HoursError as error:
            problems.append(f"{where}.hours: {error}")
        # the Telegram user id; `telegram_chat_id` (older files) means the same for the
        # private chat in which counsellors talk to the bot
        key = "telegram_user_id" if "telegram_user_id" in c else "telegram_chat_id"
        chat = c.get(key)
        if "telegram_user_id" in c and "telegram_chat_id" in c \
                and c["telegram_chat_id"] != c["telegram_user_id"]:
            problems.append(f"{where}.telegram_user_id: differs from telegram_chat_id")
        if chat is not None:
            if not isinstance(chat, int) or isinstance(chat, bool) or chat <= 0:
                problems.append(f"{where}.{key}: must be a positive number (a user id)")
            elif chat in seen_chats:
                problems.append(f"{where}.{key}: used by two counsellors")
            else:
                seen_chats.add(chat)
        active = c.get("active", True)
        if not isinstance(active, bool):
            problems.append(f"{where}.active: must be true or false")
        coordinator = c.get("coordinator", False)
        if not isinstance(coordinator, bool):
            problems.append(f"{where}.coordinator: must be true or false")
        couns.append({"id": cid, "name": c.get("name"), "organisation_id": c.get("organisation"),
                      "languages": languages, "topics": topics, "regions": regions,
                      "capacity": capacity, "hours": str(hours or ""),
                      "telegram_user_id": chat, "active": active,
                      "coordinator": coordinator})
    if problems:
        raise DirectoryError(problems)
    return orgs, couns


def _iso_639_1() -> set[str]:
    """Every ISO 639-1 code: counsellors may speak languages the bot does not."""
    import langcodes

    return {code for code in langcodes.LANGUAGE_ALPHA3 if len(code) == 2}


def import_file(session: Session, path: Path) -> ImportResult:
    """Upsert organisations and counsellors from a YAML file; nothing is written when any
    entry is bad (DirectoryError lists them all). The file is the whole directory:
    counsellors missing from it are deactivated, and their open cases offered again."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as error:
        raise DirectoryError([f"file: not valid YAML ({error})"]) from error
    orgs, couns = validate(data)
    for org in orgs:
        row = session.get(Organisation, org["id"]) or Organisation(id=org["id"])
        row.name, row.regions = org["name"], org["regions"]
        session.add(row)
    session.flush()
    listed = {c["id"] for c in couns}
    gone = [row for row in session.execute(select(Counsellor)).scalars()
            if row.id not in listed and row.active]
    for row in gone:
        # free the user id first: a new entry may carry it
        row.active, row.telegram_user_id, row.coordinator = False, None, False
    session.flush()
    for c in couns:
        row = session.get(Counsellor, c["id"]) or Counsellor(id=c["id"])
        for key, value in c.items():
            if key != "id":
                setattr(row, key, value)
        session.add(row)
    session.flush()
    from bot.cases import reoffer_cases_of

    inactive = [row.id for row in session.execute(
        select(Counsellor).where(Counsellor.active.is_(False))).scalars()]
    reoffered = reoffer_cases_of(session, counsellor_ids=inactive)
    return ImportResult(len(orgs), len(couns), tuple(r.id for r in gone), tuple(reoffered))


def list_counsellors(session: Session) -> list[Counsellor]:
    return list(session.execute(select(Counsellor).order_by(Counsellor.id)).scalars())


def counsellor_by_user(session: Session, *, user_id: int) -> Counsellor | None:
    """The active counsellor with this Telegram user id, if any."""
    return session.execute(
        select(Counsellor).where(Counsellor.telegram_user_id == user_id, Counsellor.active)
    ).scalar_one_or_none()
