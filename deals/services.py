"""Every write of the deal flow: one function per use case.

Each one runs in a transaction, finds the row *as seen by the acting user* (a stranger
gets 404, never a hint that the engagement exists), checks the role (403) and the state
(409, naming the state), locks the rows it changes with ``select_for_update`` and
records its room event through :func:`chat.events.record` before committing. Pushes to
sockets happen after the commit.

Lock order, to keep concurrent use cases free of deadlocks: the project row first, then
engagement rows in primary-key order, then the room row (taken by ``record``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from accounts.models import User
from accounts.services import get_or_create_skills
from chat import events
from chat import services as chat_services
from config.errors import Conflict, Forbidden, InvalidInput, NotFound
from files import services as file_services

from . import error_codes, notifications, timers
from .models import Delivery, Engagement, Project, ProposalVersion, Review
from .selectors import visible_projects

State = Engagement.State

# --- helpers -----------------------------------------------------------------------------


def _not_found() -> NotFound:
    return NotFound("No such engagement.", code=error_codes.NOT_FOUND)


def _locked_engagement(engagement_id: int, user: User) -> Engagement:
    """The engagement, locked, if ``user`` is one of its two members; else 404."""
    engagement = (
        Engagement.objects.select_for_update()
        .filter(Q(client=user) | Q(advisor=user), pk=engagement_id)
        .first()
    )
    if engagement is None:
        raise _not_found()
    return engagement


def _require_client(engagement: Engagement, user: User, action: str) -> None:
    if engagement.client_id != user.pk:
        raise Forbidden(f"Only the client can {action}.", code=error_codes.CLIENTS_ONLY)


def _require_advisor(engagement: Engagement, user: User, action: str) -> None:
    if engagement.advisor_id != user.pk:
        raise Forbidden(f"Only the advisor can {action}.", code=error_codes.ADVISORS_ONLY)


def _require_state(engagement: Engagement, allowed: Iterable[str], action: str) -> None:
    if engagement.state not in allowed:
        raise Conflict(
            f"Cannot {action} an engagement that is {engagement.state}.",
            state=engagement.state,
            code=error_codes.WRONG_STATE,
        )


def _proposal_data(version: ProposalVersion) -> dict[str, Any]:
    return {
        "version": version.version,
        "fee_amount": str(version.fee_amount),
        "fee_currency": version.fee_currency,
        "statement": version.statement,
        "estimated_days": version.estimated_days,
        "included_revisions": version.included_revisions,
    }


def _validate_budget(budget_min: Decimal | None, budget_max: Decimal | None) -> None:
    if budget_min is not None and budget_max is not None and budget_min > budget_max:
        raise InvalidInput(
            "budget_min must not exceed budget_max.",
            code=error_codes.INVALID_BUDGET,
            fields={"budget_max": ["Must be at least budget_min."]},
        )


# --- requests ------------------------------------------------------------------------------


@transaction.atomic
def post_project(
    *,
    client: User,
    title: str,
    description: str,
    skills: Iterable[str] = (),
    budget_min: Decimal | None = None,
    budget_max: Decimal | None = None,
    currency: str = "USD",
    due_date: date | None = None,
) -> Project:
    if not client.is_client:
        raise Forbidden("Only clients can post requests.", code=error_codes.CLIENTS_ONLY)
    _validate_budget(budget_min, budget_max)
    project = Project.objects.create(
        client=client,
        title=title,
        description=description,
        budget_min=budget_min,
        budget_max=budget_max,
        currency=currency.upper(),
        due_date=due_date,
    )
    project.skills.set(get_or_create_skills(names=skills))
    transaction.on_commit(lambda: notifications.alert_matching_advisors(project_id=project.pk))
    return project


def _own_project(project_id: int, user: User, *, lock: bool) -> Project:
    queryset = Project.objects.select_for_update() if lock else Project.objects
    project = queryset.filter(visible_projects(user=user), pk=project_id).first()
    if project is None:
        raise NotFound("No such request.", code=error_codes.NOT_FOUND)
    if project.client_id != user.pk:
        raise Forbidden("Only the client who posted it can change a request.",
                        code=error_codes.NOT_OWNER)
    return project


@transaction.atomic
def update_project(*, project_id: int, by: User, **changes: Any) -> Project:
    project = _own_project(project_id, by, lock=True)
    if project.state != Project.State.OPEN:
        raise Conflict(f"Cannot edit a request that is {project.state}.", state=project.state,
                       code=error_codes.PROJECT_NOT_OPEN)
    skills = changes.pop("skills", None)
    for field in ("title", "description", "budget_min", "budget_max", "currency", "due_date"):
        if field in changes:
            setattr(project, field, changes[field])
    project.currency = project.currency.upper()
    _validate_budget(project.budget_min, project.budget_max)
    project.save()
    if skills is not None:
        project.skills.set(get_or_create_skills(names=skills))
    return project


@transaction.atomic
def cancel_project(*, project_id: int, by: User) -> Project:
    """Cancel an open request; every pending proposal on it is declined, in its own room."""
    project = _own_project(project_id, by, lock=True)
    if project.state != Project.State.OPEN:
        raise Conflict(f"Cannot cancel a request that is {project.state}.",
                       state=project.state, code=error_codes.PROJECT_NOT_OPEN)
    project.state = Project.State.CANCELLED
    project.save(update_fields=["state", "updated_at"])
    _decline_pending(project, except_id=None, reason="request_cancelled")
    return project


def _decline_pending(project: Project, *, except_id: int | None, reason: str) -> None:
    pending = (
        Engagement.objects.select_for_update()
        .filter(project=project, state=State.PROPOSED)
        .exclude(pk=except_id)
        .order_by("pk")
    )
    for engagement in pending:
        engagement.state = State.DECLINED
        engagement.save(update_fields=["state", "updated_at"])
        events.record(engagement.room_id, "proposal.declined", actor=None,
                      data={"reason": reason, "automatic": True})
        chat_services.close_room(room=engagement.room_id)


# --- proposals -----------------------------------------------------------------------------


@transaction.atomic
def submit_proposal(
    *,
    project_id: int,
    advisor: User,
    fee_amount: Decimal,
    fee_currency: str,
    statement: str,
    estimated_days: int,
    included_revisions: int,
) -> Engagement:
    """An advisor's proposal: creates the engagement, its room and version 1."""
    project = (
        Project.objects.select_for_update()
        .filter(visible_projects(user=advisor), pk=project_id)
        .first()
    )
    if project is None:
        raise NotFound("No such request.", code=error_codes.NOT_FOUND)
    if not advisor.is_advisor:
        raise Forbidden("Only advisors can send proposals.", code=error_codes.ADVISORS_ONLY)
    if project.state != Project.State.OPEN:
        raise Conflict(f"The request is {project.state}.", state=project.state,
                       code=error_codes.PROJECT_NOT_OPEN)
    existing = project.engagements.filter(advisor=advisor).first()
    if existing is not None:
        raise Conflict("You already sent a proposal for this request.", state=existing.state,
                       code=error_codes.PROPOSAL_EXISTS, engagement=existing.pk)

    room = chat_services.create_room(members=[project.client, advisor])
    try:
        with transaction.atomic():
            engagement = Engagement.objects.create(
                room=room, project=project, client=project.client, advisor=advisor
            )
    except IntegrityError:  # the project lock makes this unreachable; the constraint is a net
        raise Conflict("You already sent a proposal for this request.", state="proposed",
                       code=error_codes.PROPOSAL_EXISTS) from None
    version = ProposalVersion.objects.create(
        engagement=engagement,
        version=1,
        fee_amount=fee_amount,
        fee_currency=fee_currency.upper(),
        statement=statement,
        estimated_days=estimated_days,
        included_revisions=included_revisions,
    )
    engagement.current_proposal = version
    engagement.save(update_fields=["current_proposal"])
    events.record(
        room,
        "proposal.submitted",
        actor=advisor,
        data={"project": project.pk, "title": project.title, **_proposal_data(version)},
    )
    return engagement


@transaction.atomic
def revise_proposal(*, engagement_id: int, by: User, **changes: Any) -> Engagement:
    """A new version of the proposal; earlier versions are kept and stay hireable no more."""
    engagement = _locked_engagement(engagement_id, by)
    _require_advisor(engagement, by, "revise the proposal")
    _require_state(engagement, [State.PROPOSED], "revise the proposal of")
    current = engagement.current_proposal
    fields = ("fee_amount", "fee_currency", "statement", "estimated_days", "included_revisions")
    values = {field: changes.get(field, getattr(current, field)) for field in fields}
    values["fee_currency"] = values["fee_currency"].upper()
    if all(values[field] == getattr(current, field) for field in fields):
        raise InvalidInput("The revision changes nothing.", code="no_changes")
    version = ProposalVersion.objects.create(
        engagement=engagement, version=current.version + 1, **values
    )
    engagement.current_proposal = version
    engagement.save(update_fields=["current_proposal", "updated_at"])
    events.record(engagement.room_id, "proposal.revised", actor=by, data=_proposal_data(version))
    return engagement


@transaction.atomic
def withdraw_proposal(*, engagement_id: int, by: User) -> Engagement:
    engagement = _locked_engagement(engagement_id, by)
    _require_advisor(engagement, by, "withdraw the proposal")
    _require_state(engagement, [State.PROPOSED], "withdraw the proposal of")
    engagement.state = State.WITHDRAWN
    engagement.save(update_fields=["state", "updated_at"])
    events.record(engagement.room_id, "proposal.withdrawn", actor=by, data={})
    chat_services.close_room(room=engagement.room_id)
    return engagement


@transaction.atomic
def decline_proposal(*, engagement_id: int, by: User, reason: str = "") -> Engagement:
    engagement = _locked_engagement(engagement_id, by)
    _require_client(engagement, by, "decline a proposal")
    _require_state(engagement, [State.PROPOSED], "decline the proposal of")
    engagement.state = State.DECLINED
    engagement.save(update_fields=["state", "updated_at"])
    events.record(engagement.room_id, "proposal.declined", actor=by,
                  data={"reason": reason, "automatic": False})
    chat_services.close_room(room=engagement.room_id)
    return engagement


# --- hire ----------------------------------------------------------------------------------


@transaction.atomic
def hire(*, engagement_id: int, by: User, version: int) -> Engagement:
    """Accept one exact proposal version. Exactly one hire per request, even under races.

    The project row is locked first: concurrent hires on one request queue there, and the
    second finds the project already hired. Every other pending proposal is declined.
    """
    # Find the project without locking the engagement yet, to keep the lock order.
    peek = (
        Engagement.objects.filter(Q(client=by) | Q(advisor=by), pk=engagement_id)
        .values_list("project_id", flat=True)
        .first()
    )
    if peek is None:
        raise _not_found()
    project = Project.objects.select_for_update().get(pk=peek)
    engagement = _locked_engagement(engagement_id, by)
    _require_client(engagement, by, "hire")
    _require_state(engagement, [State.PROPOSED], "hire on")
    if project.state != Project.State.OPEN:
        raise Conflict(f"The request is already {project.state}.", state=project.state,
                       code=error_codes.PROJECT_NOT_OPEN)
    proposal = engagement.current_proposal
    if version != proposal.version:
        raise Conflict(
            f"Version {version} is not the current proposal (version {proposal.version}).",
            state=engagement.state,
            code=error_codes.VERSION_OUTDATED,
            current_version=proposal.version,
        )
    now = timezone.now()
    engagement.state = State.ACTIVE
    engagement.hired_version = proposal.version
    engagement.included_revisions = proposal.included_revisions
    engagement.hired_at = now
    engagement.save()
    project.state = Project.State.HIRED
    project.save(update_fields=["state", "updated_at"])
    events.record(engagement.room_id, "engagement.hired", actor=by,
                  data=_proposal_data(proposal))
    _decline_pending(project, except_id=engagement.pk, reason="another_advisor_hired")
    return engagement


# --- delivery and review window ---------------------------------------------------------


@transaction.atomic
def deliver(
    *, engagement_id: int, by: User, note: str, file_ids: Iterable[int] = ()
) -> Delivery:
    engagement = _locked_engagement(engagement_id, by)
    _require_advisor(engagement, by, "deliver")
    _require_state(engagement, [State.ACTIVE], "deliver on")
    # Deliverables are files the advisor shared in this room and has not removed; their
    # rows stay locked until the commit, so none can be removed under the delivery.
    # (deals depends on files, never the reverse: files reads the review state from the
    # room's log.)
    deliverables = file_services.lock_deliverables(
        room_id=engagement.room_id, by=by, file_ids=file_ids
    )
    now = timezone.now()
    number = engagement.deliveries.count() + 1
    delivery = Delivery.objects.create(
        engagement=engagement, number=number, note=note,
        file_ids=[shared.pk for shared in deliverables],
    )
    engagement.state = State.DELIVERED
    engagement.review_deadline = now + settings.REVIEW_WINDOW
    engagement.reminder_sent_at = None
    engagement.save()
    events.record(
        engagement.room_id,
        "engagement.delivered",
        actor=by,
        data={
            "delivery": number,
            "note": note,
            "files": [shared.summary() for shared in deliverables],
            "review_deadline": engagement.review_deadline.isoformat(),
        },
    )
    # The timers are rows in the same database and transaction: a rolled-back delivery
    # leaves none behind, a committed one cannot lose them.
    timers.schedule_review_timers(engagement)
    return delivery


def _pending_delivery(engagement: Engagement) -> Delivery:
    return engagement.deliveries.select_for_update().order_by("-number").first()


def _close_delivery(engagement: Engagement, outcome: str, note: str = "") -> Delivery:
    delivery = _pending_delivery(engagement)
    delivery.outcome = outcome
    delivery.response_note = note
    delivery.responded_at = timezone.now()
    delivery.save(update_fields=["outcome", "response_note", "responded_at"])
    return delivery


def _complete(engagement: Engagement, *, actor: User | None, automatic: bool) -> None:
    delivery = _close_delivery(
        engagement,
        Delivery.Outcome.AUTO_APPROVED if automatic else Delivery.Outcome.APPROVED,
    )
    engagement.state = State.COMPLETED
    engagement.completed_at = timezone.now()
    engagement.review_deadline = None
    engagement.save()
    events.record(engagement.room_id, "engagement.approved", actor=actor,
                  data={"automatic": automatic, "delivery": delivery.number})


@transaction.atomic
def approve(*, engagement_id: int, by: User) -> Engagement:
    engagement = _locked_engagement(engagement_id, by)
    _require_client(engagement, by, "approve a delivery")
    _require_state(engagement, [State.DELIVERED], "approve")
    _complete(engagement, actor=by, automatic=False)
    return engagement


@transaction.atomic
def auto_approve(*, engagement_id: int, now: datetime | None = None) -> bool:
    """Approve a delivery whose review window has passed. Safe to call any number of times.

    It re-checks state and deadline under the row lock, so a task that fires late, twice,
    or after the client already answered changes nothing.
    """
    now = now or timezone.now()
    engagement = Engagement.objects.select_for_update().filter(pk=engagement_id).first()
    if (
        engagement is None
        or engagement.state != State.DELIVERED
        or engagement.review_deadline is None
        or engagement.review_deadline > now
    ):
        return False
    _complete(engagement, actor=None, automatic=True)
    return True


@transaction.atomic
def send_review_reminder(*, engagement_id: int, now: datetime | None = None) -> bool:
    """Remind the client once that a delivery will be approved automatically soon."""
    now = now or timezone.now()
    engagement = Engagement.objects.select_for_update().filter(pk=engagement_id).first()
    if (
        engagement is None
        or engagement.state != State.DELIVERED
        or engagement.reminder_sent_at is not None
        or engagement.review_deadline is None
        or engagement.review_deadline <= now
        or engagement.review_deadline - settings.REVIEW_REMINDER_BEFORE > now
    ):
        return False
    engagement.reminder_sent_at = now
    engagement.save(update_fields=["reminder_sent_at"])
    transaction.on_commit(
        lambda: notifications.remind_review_deadline(engagement_id=engagement.pk)
    )
    return True


@transaction.atomic
def request_revision(*, engagement_id: int, by: User, note: str) -> Engagement:
    engagement = _locked_engagement(engagement_id, by)
    _require_client(engagement, by, "request a revision")
    _require_state(engagement, [State.DELIVERED], "request a revision on")
    if engagement.revisions_used >= engagement.included_revisions:
        raise Conflict(
            f"All {engagement.included_revisions} included revisions have been used.",
            state=engagement.state,
            code=error_codes.NO_REVISIONS_LEFT,
        )
    delivery = _close_delivery(engagement, Delivery.Outcome.REVISION_REQUESTED, note)
    engagement.state = State.ACTIVE
    engagement.revisions_used += 1
    engagement.review_deadline = None
    engagement.save()
    events.record(
        engagement.room_id,
        "engagement.revision_requested",
        actor=by,
        data={
            "note": note,
            "delivery": delivery.number,
            "revisions_used": engagement.revisions_used,
            "included_revisions": engagement.included_revisions,
        },
    )
    return engagement


@transaction.atomic
def reject(*, engagement_id: int, by: User, reason: str) -> Engagement:
    """The client refuses the delivery: a dispute that staff settle in the admin."""
    engagement = _locked_engagement(engagement_id, by)
    _require_client(engagement, by, "reject a delivery")
    _require_state(engagement, [State.DELIVERED], "reject")
    delivery = _close_delivery(engagement, Delivery.Outcome.REJECTED, reason)
    engagement.state = State.DISPUTED
    engagement.review_deadline = None
    engagement.save()
    events.record(engagement.room_id, "engagement.rejected", actor=by,
                  data={"reason": reason, "delivery": delivery.number})
    return engagement


@transaction.atomic
def resolve_dispute(*, engagement_id: int, by: User, outcome: str, note: str = "") -> Engagement:
    """Staff settle a dispute as completed (the advisor is paid) or cancelled."""
    if not by.is_staff:
        raise Forbidden("Only staff settle disputes.", code=error_codes.STAFF_ONLY)
    if outcome not in (State.COMPLETED, State.CANCELLED):
        raise InvalidInput("outcome must be completed or cancelled.",
                           code=error_codes.INVALID_OUTCOME)
    engagement = Engagement.objects.select_for_update().filter(pk=engagement_id).first()
    if engagement is None:
        raise _not_found()
    _require_state(engagement, [State.DISPUTED], "resolve")
    engagement.state = outcome
    if outcome == State.COMPLETED:
        engagement.completed_at = timezone.now()
    engagement.save()
    events.record(engagement.room_id, "engagement.resolved", actor=by,
                  data={"outcome": outcome, "note": note})
    if outcome == State.CANCELLED:
        chat_services.close_room(room=engagement.room_id)
    return engagement


# --- reviews -------------------------------------------------------------------------------


@dataclass(frozen=True)
class PostedReview:
    review: Review
    revealed: bool


@transaction.atomic
def post_review(*, engagement_id: int, by: User, rating: int, comment: str = "") -> PostedReview:
    """Rate the other side once. Double-blind: hidden until both are in (or time passes)."""
    engagement = _locked_engagement(engagement_id, by)
    _require_state(engagement, [State.COMPLETED], "review")
    if not 1 <= rating <= 5:
        raise InvalidInput("rating must be 1 to 5.", code="invalid_rating",
                           fields={"rating": ["Must be between 1 and 5."]})
    if engagement.reviews.filter(author=by).exists():
        raise Conflict("You already reviewed this engagement.", state=engagement.state,
                       code=error_codes.REVIEW_EXISTS)
    subject_id = engagement.advisor_id if by.pk == engagement.client_id else engagement.client_id
    review = Review.objects.create(
        engagement=engagement, author=by, subject_id=subject_id, rating=rating, comment=comment
    )
    revealed = engagement.reviews.count() == 2
    role = "client" if by.pk == engagement.client_id else "advisor"
    events.record(engagement.room_id, "review.posted", actor=by,
                  data={"by_role": role, "revealed": revealed})
    return PostedReview(review, revealed)
