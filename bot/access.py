"""Who may do what with a case: the one place where counsellor actions are authorised.

- take: only a counsellor the case was offered to (its routing candidates), while nobody
  has it; a coordinator may assign an unclaimed case they can see to a counsellor of their
  own organisation;
- close, release, reply, /cases: only the counsellor who holds the case;
- a counsellor closes with a real outcome, never `cancelled` (that one is the person's).
Every function is pure: it looks at the rows it is given and decides."""

from __future__ import annotations

from bot.db.models import Case, CaseStatus, Counsellor, Outcome

UNCLAIMED = (CaseStatus.QUEUED, CaseStatus.OFFERED)
COUNSELLOR_OUTCOMES = (Outcome.RESOLVED, Outcome.REFERRED, Outcome.NO_RESPONSE, Outcome.OTHER)
NATIONWIDE = "DE"


class NotAllowed(PermissionError):
    """A counsellor action that this counsellor may not do with this case."""


def offered_to(counsellor: Counsellor | None, case: Case | None) -> bool:
    """The case was offered to this (active) counsellor by routing or escalation."""
    if counsellor is None or case is None or not counsellor.active:
        return False
    return any(c.get("counsellor_id") == counsellor.id for c in case.routing or [])


def may_take(counsellor: Counsellor | None, case: Case | None) -> bool:
    """Offered to them and still waiting for someone."""
    return offered_to(counsellor, case) and case is not None and case.status in UNCLAIMED


def may_act(counsellor: Counsellor | None, case: Case | None) -> bool:
    """Close, release, reply: only on the counsellor's own claimed case."""
    return (counsellor is not None and counsellor.active and case is not None
            and case.status is CaseStatus.CLAIMED and case.assignee_id == counsellor.id)


def may_close_with(outcome: Outcome) -> bool:
    return outcome in COUNSELLOR_OUTCOMES


def is_coordinator(counsellor: Counsellor | None) -> bool:
    return counsellor is not None and counsellor.active and bool(counsellor.coordinator)


def may_see_queue(coordinator: Counsellor | None, case: Case | None) -> bool:
    """A coordinator sees the unclaimed cases of their organisation: routed to one of its
    counsellors, or in a region it serves (nationwide organisations, and cases whose
    person is abroad, are seen by every coordinator who covers them)."""
    if not is_coordinator(coordinator) or case is None or case.status not in UNCLAIMED:
        return False
    assert coordinator is not None
    org = coordinator.organisation_id
    if any(c.get("organisation_id") == org for c in case.routing or []):
        return True
    regions = list(coordinator.organisation.regions or [])
    return NATIONWIDE in regions or case.region is None or case.region in regions


def may_assign(coordinator: Counsellor | None, case: Case | None,
               target: Counsellor | None) -> bool:
    """A coordinator hands a case they can see to an active counsellor of their own
    organisation (themselves included)."""
    return (may_see_queue(coordinator, case) and target is not None and target.active
            and coordinator is not None
            and target.organisation_id == coordinator.organisation_id)
