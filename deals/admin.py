"""Staff tools: browse the deal flow and settle disputes (through the same service)."""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from config.errors import ServiceError

from . import services
from .models import Delivery, Engagement, Project, ProposalVersion, Review


@admin.register(Project)
class ProjectAdmin(admin.ModelAdmin):
    list_display = ["id", "title", "client", "state", "created_at"]
    list_filter = ["state"]
    search_fields = ["title", "description"]
    raw_id_fields = ["client"]


class ProposalVersionInline(admin.TabularInline):
    model = ProposalVersion
    extra = 0
    can_delete = False
    readonly_fields = ["version", "fee_amount", "fee_currency", "statement", "estimated_days",
                       "included_revisions", "created_at"]


class DeliveryInline(admin.TabularInline):
    model = Delivery
    extra = 0
    can_delete = False
    readonly_fields = ["number", "note", "file_ids", "outcome", "response_note", "created_at",
                       "responded_at"]


def _resolve(outcome: str, label: str):
    @admin.action(description=f"Resolve selected disputes: {label}")
    def action(modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet) -> None:
        done = 0
        for engagement in queryset:
            try:
                services.resolve_dispute(engagement_id=engagement.pk, by=request.user,
                                         outcome=outcome)
                done += 1
            except ServiceError as exc:
                modeladmin.message_user(request, f"{engagement}: {exc.detail}", messages.ERROR)
        if done:
            modeladmin.message_user(request, f"Resolved {done} dispute(s) as {outcome}.")

    action.__name__ = f"resolve_{outcome}"
    return action


@admin.register(Engagement)
class EngagementAdmin(admin.ModelAdmin):
    list_display = ["room_id", "project", "client", "advisor", "state", "review_deadline",
                    "updated_at"]
    list_filter = ["state"]
    search_fields = ["project__title", "client__username", "advisor__username"]
    # State changes go through services (and their events), never a form field.
    readonly_fields = ["room", "project", "client", "advisor", "state", "current_proposal",
                       "hired_version", "included_revisions", "revisions_used",
                       "review_deadline", "reminder_sent_at", "hired_at", "completed_at"]
    inlines = [ProposalVersionInline, DeliveryInline]
    actions = [_resolve("completed", "completed (advisor paid)"),
               _resolve("cancelled", "cancelled (client refunded)")]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(Review)
class ReviewAdmin(admin.ModelAdmin):
    list_display = ["engagement", "author", "subject", "rating", "created_at"]
    raw_id_fields = ["engagement", "author", "subject"]
