"""makemessages that also extracts the front end's short aliases ``t("…")`` and
``tf("…", {…})`` (see frontend/static/frontend/js/core.js)."""

from django.core.management.commands import makemessages


class Command(makemessages.Command):
    xgettext_options = [*makemessages.Command.xgettext_options, "--keyword=t", "--keyword=tf"]
