"""Install the periodic sweep that catches review deadlines whose one-off task was lost."""

from django.db import migrations

SWEEP_NAME = "sweep-review-deadlines"


def install(apps, schema_editor):
    Schedule = apps.get_model("django_q", "Schedule")
    Schedule.objects.update_or_create(
        name=SWEEP_NAME,
        defaults={
            "func": "deals.tasks.sweep_review_deadlines",
            "schedule_type": "I",  # Schedule.MINUTES
            "minutes": 1,
            "repeats": -1,
        },
    )


def uninstall(apps, schema_editor):
    apps.get_model("django_q", "Schedule").objects.filter(name=SWEEP_NAME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("deals", "0001_initial"),
        ("django_q", "0018_task_success_index"),
    ]
    operations = [migrations.RunPython(install, uninstall)]
