from __future__ import annotations

import zoneinfo

from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _


def validate_timezone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(f"Unknown time zone {value!r}.", code="invalid_timezone")


class Skill(models.Model):
    """A skill tag shared by advisors' profiles and clients' requests (matched by slug)."""

    slug = models.SlugField(max_length=50, unique=True)
    name = models.CharField(max_length=80)

    class Meta:
        ordering = ["slug"]

    def __str__(self) -> str:
        return self.name


class User(AbstractUser):
    class Role(models.TextChoices):
        CLIENT = "client", _("Client")
        ADVISOR = "advisor", _("Advisor")

    role = models.CharField(max_length=10, choices=Role.choices)
    display_name = models.CharField(max_length=100)
    timezone = models.CharField(max_length=64, default="UTC", validators=[validate_timezone])
    # Advisor profile: skills are matched against requests; bio is shown on the profile.
    skills = models.ManyToManyField(Skill, blank=True, related_name="advisors")
    bio = models.TextField(blank=True, max_length=5000)
    notifications_enabled = models.BooleanField(default=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(role__in=["client", "advisor"]) | models.Q(is_staff=True),
                name="user_role_valid",
            )
        ]

    @property
    def is_client(self) -> bool:
        return self.role == self.Role.CLIENT

    @property
    def is_advisor(self) -> bool:
        return self.role == self.Role.ADVISOR

    def __str__(self) -> str:
        return self.display_name or self.username
