"""Logs: no message text, name, phone number or token at any level, including DEBUG and the
error paths; tracebacks keep their frames but not their messages."""

from __future__ import annotations

import io
import logging
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bot import logs
from tests.security.conftest import RasaProcess

PHRASE = "Quokkaflügel Zebrafinkenweg"  # appears nowhere else
PHONE = "+49 151 2345 9876"
PHONE_DIGITS = "15123459876"


def _no_trace(text: str) -> None:
    assert "Quokkaflügel" not in text
    assert "Zebrafinkenweg" not in text
    assert "2345 9876" not in text and PHONE_DIGITS not in text.replace(" ", "")


@pytest.fixture
def restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    levels = {name: logging.getLogger(name).level for name in logs.PINNED}
    yield
    root.handlers = handlers
    root.setLevel(level)
    for name, value in levels.items():
        logging.getLogger(name).setLevel(value)


def _raise_with_text() -> None:
    raise ValueError(f"could not parse {PHRASE!r} from {PHONE}")


def test_formatter_keeps_frames_but_not_the_exception_message(restore_logging) -> None:
    stream = io.StringIO()
    logs.setup("DEBUG", stream)
    try:
        _raise_with_text()
    except ValueError:
        logging.getLogger("bot.test").exception("Turn failed")
    text = stream.getvalue()
    assert "Turn failed" in text
    assert "_raise_with_text" in text and "test_logs.py" in text  # the frames are there
    assert "ValueError" in text and "message withheld" in text
    _no_trace(text)


def test_raw_library_payloads_and_tokens_are_not_printed(restore_logging, caplog) -> None:
    stream = io.StringIO()
    logs.setup("DEBUG", stream)
    update = {"message": {"text": PHRASE, "from": {"first_name": "Olena"}}}
    logging.getLogger("telegram.ext.Application").debug("Processing update %s", update)
    logging.getLogger("telegram._bot").critical("Received data was %r", update)
    logging.getLogger("httpx").info("POST https://api.telegram.org/bot123456:%s/sendMessage",
                                    "A" * 35)
    logging.getLogger("rasa.core.processor").debug("Received user message '%s'", PHRASE)
    logging.getLogger("sanic.access").info("GET /status?token=%s", "s3cr3t")
    logging.getLogger("bot.test").info("token=s3cr3t and 654321:%s", "B" * 35)
    text = stream.getvalue()
    _no_trace(text)
    assert "Olena" not in text and "s3cr3t" not in text
    assert "A" * 35 not in text and "B" * 35 not in text
    assert "Received data was" in text  # the event itself is kept, without its data
    # the pins hold whatever LOG_LEVEL says
    assert not logging.getLogger("telegram.ext.Application").isEnabledFor(logging.DEBUG)
    assert not logging.getLogger("sqlalchemy.engine").isEnabledFor(logging.INFO)
    assert logging.getLogger("bot.test").isEnabledFor(logging.DEBUG)


def test_sql_errors_do_not_show_parameters(tmp_path: Path, restore_logging) -> None:
    import sqlalchemy as sa

    logs.setup("DEBUG", io.StringIO())
    # a plain engine, as Rasa's tracker store creates it: hidden by the process-wide hook
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'x.db'}", future=True)
    with engine.begin() as connection:
        connection.exec_driver_sql("CREATE TABLE t (id INTEGER PRIMARY KEY, text TEXT)")
        connection.exec_driver_sql("INSERT INTO t VALUES (1, 'a')")
    with pytest.raises(sa.exc.IntegrityError) as error, engine.begin() as connection:
        connection.execute(sa.text("INSERT INTO t VALUES (:id, :text)"),
                           {"id": 1, "text": PHRASE})
    _no_trace(str(error.value))


async def test_a_real_conversation_leaves_no_trace_in_process_logs(chat: Any,
                                                                  restore_logging) -> None:
    stream = io.StringIO()
    logs.setup("DEBUG", stream)
    person = chat("de")
    await person.say(f"Hallo, ich heiße {PHRASE}, meine Nummer ist {PHONE}. "
                     "Brauche ich ein Visum?")
    await person.say(f"Ich möchte mit einer Beraterin sprechen, {PHRASE}")
    await person.say("/affirm")
    text = stream.getvalue()
    assert "Logging at DEBUG" in text
    _no_trace(text)


def test_servers_at_debug_leave_no_trace(rasa_process: RasaProcess,
                                         action_server_log: Path) -> None:
    sender = "log-probe-1"
    message = f"Hallo, ich heiße {PHRASE}, Telefon {PHONE}. Wie lange dauert die Anerkennung?"
    assert rasa_process.post(sender, message)[0] == 200
    assert rasa_process.post(sender, f"Ich möchte mit einer Beraterin sprechen {PHRASE}")[0] \
        == 200
    assert rasa_process.post(sender, "/affirm")[0] == 200
    assert rasa_process.post(sender, "")[0] in (200, 500)  # an error path inside Rasa
    url = f"{rasa_process.url}/conversations/{sender}/tracker?token={rasa_process.api_token}"
    with urllib.request.urlopen(url, timeout=30) as response:
        assert response.status == 200
    for log in (rasa_process.log, action_server_log):
        text = log.read_text(encoding="utf-8")
        assert "Logging at DEBUG" in text, log  # DEBUG really was on
        _no_trace(text)
        assert rasa_process.api_token not in text
