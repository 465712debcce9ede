from __future__ import annotations

import zoneinfo

from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.models import User

TIMEZONES = sorted(zoneinfo.available_timezones())


class SignupForm(forms.Form):
    role = forms.ChoiceField(
        label=_("I am a"),
        choices=[("client", _("Client looking for advice")),
                 ("advisor", _("Advisor offering my expertise"))],
        widget=forms.RadioSelect,
    )
    display_name = forms.CharField(label=_("Display name"), max_length=100)
    username = forms.RegexField(label=_("Username"), regex=r"^[\w.@+-]+\Z", max_length=150)
    email = forms.EmailField(label=_("Email"))
    password = forms.CharField(label=_("Password"), widget=forms.PasswordInput,
                               min_length=8, max_length=128)
    timezone = forms.ChoiceField(label=_("Time zone"), choices=[(z, z) for z in TIMEZONES],
                                 initial="UTC")
    skills = forms.CharField(label=_("Skills (advisors; comma-separated)"), required=False,
                             max_length=500)

    def clean_skills(self) -> list[str]:
        return [s.strip() for s in self.cleaned_data["skills"].split(",") if s.strip()]


class ProfileForm(forms.Form):
    display_name = forms.CharField(label=_("Display name"), max_length=100)
    timezone = forms.ChoiceField(label=_("Time zone"), choices=[(z, z) for z in TIMEZONES])
    notifications_enabled = forms.BooleanField(label=_("Desktop notifications"), required=False)
    bio = forms.CharField(label=_("Bio"), widget=forms.Textarea(attrs={"rows": 4}),
                          required=False, max_length=5000)
    skills = forms.CharField(label=_("Skills (comma-separated)"), required=False, max_length=500)

    def __init__(self, *args, user: User, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if not user.is_advisor:
            del self.fields["bio"]
            del self.fields["skills"]

    def clean_skills(self) -> list[str]:
        return [s.strip() for s in self.cleaned_data["skills"].split(",") if s.strip()]
