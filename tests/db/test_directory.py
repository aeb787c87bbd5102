"""Directory import: idempotent upsert, all-or-nothing, errors with position and field."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.db.models import Counsellor, Organisation
from bot.directory import DirectoryError, import_file


def count(session, model) -> int:  # type: ignore[no-untyped-def]
    return session.execute(select(func.count()).select_from(model)).scalar_one()


def test_import_is_idempotent_and_updates(session, directory_file: Path, tmp_path: Path) -> None:
    assert import_file(session, directory_file).counsellors == 4
    import_file(session, directory_file)
    assert count(session, Counsellor) == 4 and count(session, Organisation) == 3
    # both keys name the Telegram user id; the coordinator flag is read
    assert session.get(Counsellor, "karim").telegram_user_id == 9001
    assert session.get(Counsellor, "olena").telegram_user_id == 9002
    assert session.get(Counsellor, "iryna").coordinator
    changed = tmp_path / "d.yml"
    changed.write_text(directory_file.read_text().replace("capacity: 5\n    hours: \"Mon-Sun "
                                                          "00:00-23:59\"\n    telegram_chat_id: "
                                                          "9001", "capacity: 1\n    hours: \"Mon"
                                                          "-Sun 00:00-23:59\"\n    "
                                                          "telegram_chat_id: 9001"))
    import_file(session, changed)
    assert session.get(Counsellor, "karim").capacity == 1
    # regions default to the organisation's
    assert session.get(Counsellor, "karim").effective_regions == ["NW"]
    assert session.get(Counsellor, "olena").effective_regions == ["BY"]


BAD = """
organisations:
  - id: ok-org
    name: OK
    regions: [BY]
  - id: bad-org
    name: Bad
    regions: [XX]
counsellors:
  - id: a
    name: A
    organisation: ok-org
    languages: [uk]
    topics: [recognition]
    hours: "Mon-Fri 09:00-17:00"
  - id: b
    name: B
    organisation: nowhere
    languages: [klingon]
    topics: [cooking]
    capacity: -1
    hours: "sometimes"
  - id: a
    name: A again
    organisation: ok-org
    languages: [uk]
    topics: [visa]
"""


def test_bad_file_names_each_entry_and_field_and_writes_nothing(session, tmp_path: Path) -> None:
    path = tmp_path / "bad.yml"
    path.write_text(BAD)
    with pytest.raises(DirectoryError) as error:
        import_file(session, path)
    problems = "\n".join(error.value.problems)
    for expected in ["organisations[1].regions: 'XX' is not a valid state code",
                     "counsellors[1].organisation: 'nowhere'",
                     "counsellors[1].languages: 'klingon'",
                     "counsellors[1].topics: 'cooking'",
                     "counsellors[1].capacity",
                     "counsellors[1].hours: cannot read 'sometimes'",
                     "counsellors[2].id: 'a' appears twice"]:
        assert expected in problems, problems
    assert count(session, Counsellor) == 0 and count(session, Organisation) == 0


@pytest.mark.parametrize("content", ["just text", "organisations: [1, 2]", ": : :"])
def test_malformed_files_are_refused(session, tmp_path: Path, content: str) -> None:
    path = tmp_path / "x.yml"
    path.write_text(content)
    with pytest.raises(DirectoryError):
        import_file(session, path)
