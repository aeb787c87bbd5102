"""Pseudonymous references and erasure of everything linked to a person."""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import time
from functools import lru_cache
from pathlib import Path

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from bot.db.models import Case, CaseMessage, CaseOffer, Consent
from bot.settings import get_settings

# The action that asks for erasure; the tracker store erases after the turn it ran in.
ERASE_ACTION = "action_delete_my_data"


@lru_cache(maxsize=4)
def _secret(data_dir: Path) -> bytes:
    """Key of the pseudonyms: BRUECKE_SECRET, else a random key kept in the data folder
    (created once, atomically, never logged), so references stay stable across restarts.
    Off SQLite the secret is required: each host would otherwise make its own key."""
    settings = get_settings()
    configured = settings.secret
    if configured is not None and configured.get_secret_value():
        return configured.get_secret_value().encode()
    settings.require_secret_off_sqlite()
    path = data_dir / "pseudonym.key"
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        # O_EXCL: of two processes starting at once, exactly one creates the key
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        pass
    else:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(secrets.token_hex(32))
            handle.flush()
            os.fsync(handle.fileno())
    for _ in range(50):  # the creator may still be writing
        key = path.read_text(encoding="utf-8").strip()
        if key:
            return key.encode()
        time.sleep(0.01)
    raise RuntimeError(f"{path} is empty; delete it to create a new pseudonym key")


def user_ref(conversation_id: str) -> str:
    """A stable pseudonym for a conversation id (HMAC-SHA256, hex, 32 characters)."""
    key = _secret(get_settings().data_dir)
    return hmac.new(key, conversation_id.encode(), hashlib.sha256).hexdigest()[:32]


def erase_user(session: Session, *, conversation_id: str) -> int:
    """Delete cases (with their messages) and consents of one person; returns the count of
    deleted rows."""
    ref = user_ref(conversation_id)
    case_ids = list(session.execute(select(Case.id).where(Case.user_ref == ref)).scalars())
    deleted = 0
    if case_ids:
        deleted += session.execute(
            delete(CaseMessage).where(CaseMessage.case_id.in_(case_ids))).rowcount or 0
        session.execute(delete(CaseOffer).where(CaseOffer.case_id.in_(case_ids)))
        deleted += session.execute(delete(Case).where(Case.id.in_(case_ids))).rowcount or 0
    deleted += session.execute(delete(Consent).where(Consent.user_ref == ref)).rowcount or 0
    return deleted
