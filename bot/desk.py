"""The handover desk: every counsellor action and every relay as one service call that owns
its transaction, checks the rules (bot/access.py) and returns plain results. What must
reach other chats is written to the durable outbox (bot/outbox.py) in the same transaction;
the caller only sends the returned answer to the chat that asked."""

from __future__ import annotations

import datetime as dt
import re
import secrets
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot import access, cases, outbox
from bot.db.models import Case, CaseStatus, Counsellor, Outcome
from bot.db.session import session_scope
from bot.directory import counsellor_by_user
from bot.languages import registry
from bot.privacy import erase_user, user_ref
from bot.texts import Rendered, render

CASE_TAG = re.compile(r"^#(\d{1,8})\s*")
FIRST_MESSAGES = 3  # in the offer
SUMMARY_CHARS = 200
FORWARD_LIMIT = 50  # messages written while waiting, forwarded on take


@dataclass(frozen=True)
class Who:
    """A counsellor as the transport needs them."""

    id: str
    language: str
    first_name: str
    coordinator: bool


@dataclass(frozen=True)
class PersonText:
    """What happened with a person's free text: relayed to the counsellor who holds the
    case, or left for the assistant."""

    relayed: bool


@dataclass(frozen=True)
class Erasure:
    """What an erasure removed, and what it left to the gateway."""

    rows: int
    copies: int  # bot messages in counsellors' chats queued for removal


def text(value: str) -> Rendered:
    return Rendered(value, ())


def person_chat(conversation_id: str) -> int | None:
    """The Telegram chat of a case; None for other channels (e.g. the terminal chat)."""
    try:
        chat = int(conversation_id)
    except ValueError:
        return None
    return chat if chat > 0 else None


def counsellor_language(counsellor: Counsellor) -> str:
    spoken = [lang for lang in counsellor.languages if registry().is_supported(lang)]
    return spoken[0] if spoken else registry().default


def _who(c: Counsellor) -> Who:
    return Who(c.id, counsellor_language(c), c.first_name, bool(c.coordinator))


def counsellor(user_id: int) -> Who | None:
    """The active counsellor with this Telegram user id."""
    with session_scope() as session:
        found = counsellor_by_user(session, user_id=user_id)
        return _who(found) if found else None


def _me(session: Session, counsellor_id: str) -> Counsellor | None:
    me = session.get(Counsellor, counsellor_id)
    return me if me is not None and me.active else None


def _refused(me: Counsellor | None) -> Rendered:
    return render("utter_cs_refused", counsellor_language(me) if me else None)


# ------------------------------------------------------------------ people


def person_text(chat_id: int, message: str) -> PersonText:
    """A person's free text: stored with their open case (before anything is answered);
    while a counsellor holds the case it is relayed to them through the outbox."""
    with session_scope() as session:
        case = cases.open_case(session, conversation_id=str(chat_id))
        if case is None:
            return PersonText(False)
        cases.add_message(session, case_id=case.id, sender="user", text=message)
        holder = case.assignee
        if case.status is CaseStatus.CLAIMED and holder is not None \
                and holder.telegram_user_id:
            outbox.send(session, int(holder.telegram_user_id), text(f"[{case.ref}] {message}"),
                        case_id=case.id, counsellor_id=holder.id, record="relay")
            return PersonText(True)
        return PersonText(False)


def cancel_by_person(conversation_id: str) -> Case | None:
    """The person ends their request; the counsellor who had it (or the counsellors it was
    offered to) are told."""
    with session_scope() as session:
        case = cases.open_case(session, conversation_id=conversation_id)
        if case is None:
            return None
        holder = case.assignee if case.status is CaseStatus.CLAIMED else None
        cases.cancel_by_user(session, conversation_id=conversation_id)
        if holder is not None and holder.telegram_user_id:
            outbox.send(session, int(holder.telegram_user_id),
                        render("utter_cs_person_ended", counsellor_language(holder),
                               case_ref=case.ref), case_id=case.id)
        else:
            _edit_offers(session, case, "utter_cs_withdrawn")
        return case


def erase_person(session: Session, *, conversation_id: str, language: str | None) -> Erasure:
    """Everything of one person: the bot's copies of their words in counsellors' chats are
    queued for removal (delete, else a neutral placeholder), whoever holds an open case is
    told, anything still queued for them is dropped, and the rows are deleted."""
    ref_cases = list(session.execute(select(Case).where(
        Case.user_ref == user_ref(conversation_id))).scalars())
    chat = person_chat(conversation_id)
    batch = secrets.token_hex(8)
    copies = 0
    for case in ref_cases:
        for offer in cases.offers(session, case_id=case.id, kind=None):
            who = session.get(Counsellor, offer.counsellor_id)
            lang = counsellor_language(who) if who else None
            outbox.erase(session, int(offer.chat_id), int(offer.message_id),
                         render("utter_cs_erased_placeholder", lang, case_ref=case.ref).text,
                         batch)
            copies += 1
    outbox.forget_chat(session, chat_id=chat or 0, case_ids=[c.id for c in ref_cases])
    for case in ref_cases:
        holder = case.assignee if case.status is CaseStatus.CLAIMED else None
        if holder is not None and holder.telegram_user_id:
            outbox.send(session, int(holder.telegram_user_id),
                        render("utter_cs_person_deleted", counsellor_language(holder),
                               case_ref=case.ref))
    rows = erase_user(session, conversation_id=conversation_id)
    if copies and chat is not None:
        outbox.erasure_report(session, chat, language or registry().default, batch)
    return Erasure(rows, copies)


def erasure_report(batch: str, language: str | None) -> Rendered | None:
    """The honest account of an erasure batch, once all of it is done."""
    with session_scope() as session:
        counts = outbox.batch_results(session, batch)
    if counts is None:
        return None
    removed = counts.get("deleted", 0) + counts.get("gone", 0)
    replaced = counts.get("replaced", 0)
    failed = counts.get("failed", 0)
    name = "utter_erasure_report_incomplete" if failed else "utter_erasure_report"
    return render(name, language, deleted=removed, replaced=replaced, failed=failed)


# ------------------------------------------------------------------ counsellors


def _edit_offers(session: Session, case: Case, name: str, *, taker: Counsellor | None = None
                 ) -> bool:
    """Update the case's offer messages; returns whether the taker had one."""
    had_own = False
    for offer in cases.offers(session, case_id=case.id):
        who = session.get(Counsellor, offer.counsellor_id)
        lang = counsellor_language(who) if who else None
        own = taker is not None and offer.counsellor_id == taker.id
        had_own = had_own or own
        rendered = render("utter_cs_taken_by_you" if own else name, lang, case_ref=case.ref,
                          counsellor=taker.first_name if taker else "")
        outbox.edit(session, int(offer.chat_id), int(offer.message_id), rendered.text,
                    case_id=case.id)
    return had_own


def _hand_over(session: Session, case: Case, me: Counsellor) -> bool:
    """After a claim: offers updated, waiting messages forwarded, the person told. Returns
    whether the counsellor's own offer message now says "taken by you"."""
    had_own = _edit_offers(session, case, "utter_cs_taken_by_other", taker=me)
    for message in cases.user_messages(session, case_id=case.id, limit=FORWARD_LIMIT):
        outbox.send(session, int(me.telegram_user_id), text(f"[{case.ref}] {message.text}"),
                    case_id=case.id, counsellor_id=me.id, record="relay")
    chat = person_chat(case.conversation_id)
    if chat is not None:
        outbox.send(session, chat, render("utter_case_taken", case.language,
                                          counsellor=me.first_name,
                                          organisation=me.organisation.name,
                                          case_ref=case.ref), case_id=case.id)
    return had_own


def take(counsellor_id: str, case_id: int) -> Rendered | None:
    """A Take press. Refused unless the case was offered to this counsellor; the answer
    (None when their offer message is edited instead)."""
    with session_scope() as session:
        me = _me(session, counsellor_id)
        case = session.get(Case, case_id)
        if me is None or not access.offered_to(me, case):
            return _refused(me)
        assert case is not None
        lang = counsellor_language(me)
        if not access.may_take(me, case) or not cases.claim(
                session, case_id=case_id, counsellor_id=me.id):
            return render("utter_cs_already_taken", lang, case_ref=case.ref)
        if _hand_over(session, case, me):
            return None
        return render("utter_cs_taken_by_you", lang, case_ref=case.ref)


def _own_case(session: Session, me: Counsellor, argument: str | None) -> Case | None:
    own = cases.cases_of(session, counsellor_id=me.id)
    if argument:
        wanted = argument.lstrip("#")
        return next((c for c in own if wanted.isdigit() and c.id == int(wanted)), None)
    return own[0] if len(own) == 1 else None


def _named_case(session: Session, counsellor_id: str, argument: str | None
                ) -> tuple[Counsellor, Case, str] | Rendered:
    """The counsellor, the own case a command names (or their only one) and their language;
    or the answer when there is no such counsellor or case."""
    me = _me(session, counsellor_id)
    if me is None:
        return _refused(me)
    case = _own_case(session, me, argument)
    lang = counsellor_language(me)
    if case is None:
        return render("utter_cs_unknown_case", lang)
    return me, case, lang


def close_prompt(counsellor_id: str, argument: str | None) -> Rendered:
    """/close [case]: ask for the outcome of one of the counsellor's own cases."""
    with session_scope() as session:
        found = _named_case(session, counsellor_id, argument)
        if isinstance(found, Rendered):
            return found
        _, case, lang = found
        return render("utter_cs_close_how", lang, case_ref=case.ref, case_id=case.id)


def close(counsellor_id: str, case_id: int, outcome: str) -> Rendered:
    """An outcome button: closes the counsellor's own claimed case; the person is told."""
    with session_scope() as session:
        me = _me(session, counsellor_id)
        case = session.get(Case, case_id)
        try:
            chosen = Outcome(outcome)
        except ValueError:
            return _refused(me)
        if not access.may_act(me, case) or not access.may_close_with(chosen):
            return _refused(me)
        assert me is not None and case is not None
        cases.close(session, case_id=case.id, counsellor_id=me.id, outcome=chosen)
        chat = person_chat(case.conversation_id)
        if chat is not None:
            outbox.send(session, chat, render("utter_case_closed_notice", case.language,
                                              case_ref=case.ref), case_id=case.id)
        return render("utter_cs_closed", counsellor_language(me), case_ref=case.ref)


def release(counsellor_id: str, argument: str | None) -> Rendered:
    """/release [case]: the case is offered again; the person is told honestly."""
    with session_scope() as session:
        found = _named_case(session, counsellor_id, argument)
        if isinstance(found, Rendered):
            return found
        me, case, lang = found
        cases.release(session, case_id=case.id, counsellor_id=me.id)
        chat = person_chat(case.conversation_id)
        if chat is not None:
            outbox.send(session, chat, render("utter_case_released_notice", case.language,
                                              case_ref=case.ref), case_id=case.id)
        return render("utter_cs_released", lang, case_ref=case.ref)


def list_cases(counsellor_id: str) -> Rendered:
    """/cases: the counsellor's own claimed cases."""
    with session_scope() as session:
        me = _me(session, counsellor_id)
        if me is None:
            return _refused(me)
        lang = counsellor_language(me)
        listing = ", ".join(f"#{c.ref} ({c.language}, {c.topic})"
                            for c in cases.cases_of(session, counsellor_id=me.id))
        if not listing:
            return render("utter_cs_no_cases", lang)
        return render("utter_cs_cases", lang, cases=listing)


def counsellor_text(counsellor_id: str, message: str, *, chat_id: int,
                    reply_to: int | None) -> Rendered | None:
    """A counsellor's message: for the case it replies to, the case named by #tag, or their
    only case; stored and relayed to the person. None when relayed."""
    with session_scope() as session:
        me = _me(session, counsellor_id)
        if me is None:
            return _refused(me)
        lang = counsellor_language(me)
        own = cases.cases_of(session, counsellor_id=me.id)
        case: Case | None = None
        body = message
        if reply_to is not None:
            replied = cases.case_of_message(session, chat_id=chat_id, message_id=reply_to)
            case = replied if replied is not None and access.may_act(me, replied) else None
        if case is None:
            tag = CASE_TAG.match(message)
            if tag:
                wanted = int(tag.group(1))
                case, body = next((c for c in own if c.id == wanted), None), message[tag.end():]
            elif len(own) == 1:
                case = own[0]
        if case is None or not access.may_act(me, case):
            name = "utter_cs_which_case" if len(own) > 1 else "utter_cs_no_cases"
            return render(name, lang, case_ref=own[0].ref if own else "0001")
        if not body.strip():
            return None
        cases.add_message(session, case_id=case.id, sender="counsellor", text=body)
        chat = person_chat(case.conversation_id)
        if chat is not None:
            outbox.send(session, chat, text(f"💬 {me.first_name}: {body}"), case_id=case.id)
        return None


def queue(counsellor_id: str) -> Rendered:
    """/queue: a coordinator's view of the unclaimed cases of their organisation."""
    with session_scope() as session:
        me = _me(session, counsellor_id)
        if not access.is_coordinator(me):
            return _refused(me)
        assert me is not None
        lang = counsellor_language(me)
        now = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
        lines = [f"#{c.ref} ({c.language}, {c.topic}, {c.region or '–'}, "
                 f"{c.status.value}, {int((now - c.created_at).total_seconds() // 3600)} h)"
                 for c in cases.unclaimed_cases(session) if access.may_see_queue(me, c)]
        if not lines:
            return render("utter_cs_queue_empty", lang)
        return render("utter_cs_queue", lang, cases="\n".join(lines))


def assign(counsellor_id: str, case_argument: str, target_id: str) -> Rendered:
    """/assign <case> <counsellor>: a coordinator hands a case they can see to a counsellor
    of their organisation, who gets it as if they had taken it."""
    with session_scope() as session:
        me = _me(session, counsellor_id)
        wanted = case_argument.lstrip("#")
        case = session.get(Case, int(wanted)) if wanted.isdigit() else None
        target = session.get(Counsellor, target_id)
        if not access.may_assign(me, case, target):
            return _refused(me)
        assert me is not None and case is not None and target is not None
        lang = counsellor_language(me)
        if not target.telegram_user_id or not cases.assign(
                session, case_id=case.id, coordinator_id=me.id, to_counsellor_id=target.id):
            return render("utter_cs_already_taken", lang, case_ref=case.ref)
        if not _hand_over(session, case, target) and target.id != me.id:
            outbox.send(session, int(target.telegram_user_id),
                        render("utter_cs_assigned_to_you", counsellor_language(target),
                               case_ref=case.ref, counsellor=me.first_name),
                        case_id=case.id)
        return render("utter_cs_assigned", lang, case_ref=case.ref,
                      counsellor=target.first_name)


# ------------------------------------------------------------------ background work


def _offer(session: Session, case: Case, candidates: list[dict]) -> int:
    first = "\n".join(f"› {m.text[:SUMMARY_CHARS]}" for m in cases.user_messages(
        session, case_id=case.id, limit=FIRST_MESSAGES))
    fields = {"case_ref": case.ref, "case_id": case.id, "language": case.language,
              "topic": case.topic, "region": case.region or "–",
              "profession": case.profession or "–", "country": case.country or "–",
              "first_messages": first}
    sent = 0
    for candidate in candidates:
        c = session.get(Counsellor, candidate.get("counsellor_id"))
        if c is None or not c.active or not c.telegram_user_id:
            continue
        outbox.send(session, int(c.telegram_user_id),
                    render("utter_cs_new_case", counsellor_language(c), **fields),
                    case_id=case.id, counsellor_id=c.id, record="offer")
        sent += 1
    return sent


def pending_work(*, now: dt.datetime | None = None,
                 escalate_after: dt.timedelta = dt.timedelta(hours=4)) -> int:
    """Queued cases are routed again (someone may fit now); offered cases nobody was told
    about are offered; cases nobody took in time are escalated to the next matching
    organisation and the coordinators, and the person is told. Returns rows queued."""
    now = now or dt.datetime.now(dt.timezone.utc)
    queued = 0
    with session_scope() as session:
        for case in cases.queued_cases(session):
            cases.reroute(session, case, at=now)
        for case in cases.cases_to_notify(session):
            if cases.mark_notified(session, case_id=case.id):
                queued += _offer(session, case, list(case.routing or []))
        for case in cases.due_for_escalation(session, older_than=now - escalate_after):
            extra = cases.escalate(session, case, at=now)
            queued += _offer(session, case, [c.as_dict() for c in extra])
            for coordinator in session.execute(select(Counsellor).where(
                    Counsellor.coordinator.is_(True), Counsellor.active.is_(True))).scalars():
                if coordinator.telegram_user_id and access.may_see_queue(coordinator, case):
                    outbox.send(session, int(coordinator.telegram_user_id),
                                render("utter_cs_escalated", counsellor_language(coordinator),
                                       case_ref=case.ref, case_id=case.id,
                                       language=case.language, topic=case.topic))
                    queued += 1
            chat = person_chat(case.conversation_id)
            if chat is not None:
                outbox.send(session, chat, render("utter_case_escalated", case.language,
                                                  case_ref=case.ref), case_id=case.id)
                queued += 1
        outbox.housekeeping(session, now=now)
    return queued
