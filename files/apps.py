import sys

from django.apps import AppConfig


class FilesConfig(AppConfig):
    name = "files"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        _stop_twisted_parsing_uploads()


def _stop_twisted_parsing_uploads() -> None:
    """Under daphne, keep Twisted from parsing multipart bodies into memory.

    twisted.web's Request parses every multipart/form-data POST into ``request.args`` with
    the email package before handing it on: the whole body read into memory, decoded and
    split, about ten times the file's size at peak (bench/upload_memory.py measured 274 MiB
    for a 24 MiB upload). Daphne never reads ``args`` (it passes the raw body to Django,
    which streams it through files.uploads), so the parse is pure waste. Twisted's switch
    for this, ``_parsePOSTFormSubmission``, is what other Twisted servers turn off too.

    Only when daphne's HTTP protocol is already loaded, i.e. in a daphne process: importing
    it elsewhere would drag in Twisted for nothing.
    """
    http_protocol = sys.modules.get("daphne.http_protocol")
    if http_protocol is not None and hasattr(http_protocol, "WebRequest"):
        # Twisted sets the flag per request in __init__ (True unless the caller says
        # otherwise, and daphne does not); a class-level property that ignores the
        # assignment keeps it False.
        http_protocol.WebRequest._parsePOSTFormSubmission = property(
            lambda request: False, lambda request, value: None
        )
