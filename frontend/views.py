"""Pages: server-rendered shells whose ES modules talk to the same REST API and WebSocket
that mobile clients use. Every write goes through the services (sign-up and profile here,
the rest through the API), so no rule exists twice."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from accounts import services as account_services
from config.errors import NotFound, ServiceError
from deals import selectors as deal_selectors

from .forms import ProfileForm, SignupForm


def _or_404(selector, **kwargs):
    """Selectors answer strangers with NotFound; pages turn that into the 404 page."""
    try:
        return selector(**kwargs)
    except NotFound:
        raise Http404 from None


def home(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("dashboard")
    return render(request, "frontend/home.html")


def signup(request: HttpRequest) -> HttpResponse:
    form = SignupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            user = account_services.register_user(**form.cleaned_data)
        except ServiceError as exc:
            for field, errors in exc.extra.get("fields", {}).items():
                for error in errors:
                    form.add_error(field if field in form.fields else None, error)
            if not exc.extra.get("fields"):
                form.add_error(None, exc.detail)
        else:
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            return redirect("dashboard")
    return render(request, "frontend/signup.html", {"form": form})


@login_required
def profile(request: HttpRequest) -> HttpResponse:
    user = request.user
    initial = {
        "display_name": user.display_name,
        "timezone": user.timezone,
        "notifications_enabled": user.notifications_enabled,
        "bio": user.bio,
        "skills": ", ".join(user.skills.values_list("slug", flat=True)),
    }
    form = ProfileForm(request.POST or None, initial=initial, user=user)
    if request.method == "POST" and form.is_valid():
        account_services.update_profile(user=user, **form.cleaned_data)
        messages.success(request, _("Profile saved."))
        return redirect("profile")
    rating = None
    if user.is_advisor:
        rating = deal_selectors.advisor_profile(advisor_id=user.pk)["rating"]
    return render(request, "frontend/profile.html", {"form": form, "rating": rating})


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    return render(request, "frontend/dashboard.html")


@login_required
def board(request: HttpRequest) -> HttpResponse:
    return render(request, "frontend/board.html")


@login_required
def project(request: HttpRequest, project_id: int) -> HttpResponse:
    found = _or_404(deal_selectors.project_for, project_id=project_id, user=request.user)
    return render(request, "frontend/project.html", {"project": found})


@login_required
def room(request: HttpRequest, engagement_id: int) -> HttpResponse:
    engagement = _or_404(deal_selectors.engagement_for, engagement_id=engagement_id,
                         user=request.user)
    return render(request, "frontend/room.html", {"engagement": engagement})


@login_required
def advisor(request: HttpRequest, advisor_id: int) -> HttpResponse:
    found = _or_404(deal_selectors.advisor_profile, advisor_id=advisor_id)
    return render(request, "frontend/advisor.html", found)
