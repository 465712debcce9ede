"""Every write of the accounts domain."""

from __future__ import annotations

from collections.abc import Iterable

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.text import slugify

from config.errors import InvalidInput

from . import error_codes
from .models import Skill, User


def get_or_create_skills(*, names: Iterable[str]) -> list[Skill]:
    """Skills by name, creating unknown ones; slugs make "Data Science" match "data-science"."""
    skills: dict[str, Skill] = {}
    for name in names:
        slug = slugify(name)[:50]
        if not slug or slug in skills:
            continue
        skill, _ = Skill.objects.get_or_create(slug=slug, defaults={"name": name.strip()[:80]})
        skills[slug] = skill
    return list(skills.values())


@transaction.atomic
def register_user(
    *,
    username: str,
    password: str,
    email: str,
    role: str,
    display_name: str,
    timezone: str = "UTC",
    skills: Iterable[str] = (),
    bio: str = "",
) -> User:
    if User.objects.filter(username__iexact=username).exists():
        raise InvalidInput(
            "That username is taken.",
            code=error_codes.USERNAME_TAKEN,
            fields={"username": ["That username is taken."]},
        )
    user = User(
        username=username,
        email=email,
        role=role,
        display_name=display_name,
        timezone=timezone,
        bio=bio if role == User.Role.ADVISOR else "",
    )
    try:
        validate_password(password, user)
    except ValidationError as exc:
        raise InvalidInput(
            " ".join(exc.messages), code="weak_password", fields={"password": exc.messages}
        ) from exc
    user.set_password(password)
    user.save()
    if role == User.Role.ADVISOR:
        user.skills.set(get_or_create_skills(names=skills))
    return user


@transaction.atomic
def update_profile(
    *,
    user: User,
    display_name: str | None = None,
    timezone: str | None = None,
    bio: str | None = None,
    skills: Iterable[str] | None = None,
    notifications_enabled: bool | None = None,
) -> User:
    if display_name is not None:
        user.display_name = display_name
    if timezone is not None:
        user.timezone = timezone
    if notifications_enabled is not None:
        user.notifications_enabled = notifications_enabled
    if user.is_advisor:
        if bio is not None:
            user.bio = bio
        if skills is not None:
            user.skills.set(get_or_create_skills(names=skills))
    user.save()
    return user
