"""What an upload really is, told from its bytes, and whether the room accepts it.

The type comes from the content (``filetype``'s signatures, refined for Office/OpenDocument
archives by reading the zip directory), never from the client's Content-Type. The name's
extension must then agree with it: a Windows executable named ``report.pdf`` is refused.
Plain text has no signature, so it is accepted only when every byte decodes as UTF-8 and no
HTML or script marker appears: browsers would render such a "text" as a page.
"""

from __future__ import annotations

import codecs
import re
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from typing import IO

import filetype
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from config.errors import InvalidInput

from . import error_codes

HEAD_BYTES = 8192  # what filetype looks at
CHUNK = 64 * 1024


@dataclass(frozen=True)
class Kind:
    name: str  # as in settings.FILES_ALLOWED_TYPES
    content_type: str  # stored, and sent back on download
    extensions: frozenset[str]
    label: str

    def __str__(self) -> str:
        return self.label


def _kind(name: str, content_type: str, extensions: str, label: str) -> Kind:
    return Kind(name, content_type, frozenset(extensions.split()), label)


_OOXML = "application/vnd.openxmlformats-officedocument"
_ODF = "application/vnd.oasis.opendocument"
KINDS: dict[str, Kind] = {kind.name: kind for kind in [
    # documents
    _kind("pdf", "application/pdf", ".pdf", "a PDF document"),
    _kind("docx", f"{_OOXML}.wordprocessingml.document", ".docx", "a Word document"),
    _kind("xlsx", f"{_OOXML}.spreadsheetml.sheet", ".xlsx", "an Excel workbook"),
    _kind("pptx", f"{_OOXML}.presentationml.presentation", ".pptx", "a PowerPoint deck"),
    _kind("odt", f"{_ODF}.text", ".odt", "an OpenDocument text"),
    _kind("ods", f"{_ODF}.spreadsheet", ".ods", "an OpenDocument spreadsheet"),
    _kind("odp", f"{_ODF}.presentation", ".odp", "an OpenDocument presentation"),
    _kind("doc", "application/msword", ".doc", "a Word 97-2003 document"),
    _kind("xls", "application/vnd.ms-excel", ".xls", "an Excel 97-2003 workbook"),
    _kind("ppt", "application/vnd.ms-powerpoint", ".ppt", "a PowerPoint 97-2003 deck"),
    _kind("rtf", "application/rtf", ".rtf", "an RTF document"),
    # images (not SVG: it is a document that can run script)
    _kind("png", "image/png", ".png", "a PNG image"),
    _kind("jpeg", "image/jpeg", ".jpg .jpeg", "a JPEG image"),
    _kind("gif", "image/gif", ".gif", "a GIF image"),
    _kind("webp", "image/webp", ".webp", "a WebP image"),
    _kind("tiff", "image/tiff", ".tif .tiff", "a TIFF image"),
    _kind("heic", "image/heic", ".heic", "a HEIC image"),
    # archives
    _kind("zip", "application/zip", ".zip", "a zip archive"),
    _kind("gzip", "application/gzip", ".gz .tgz", "a gzip archive"),
    _kind("tar", "application/x-tar", ".tar", "a tar archive"),
    _kind("7z", "application/x-7z-compressed", ".7z", "a 7-Zip archive"),
    # plain text: no signature, told apart by extension once the bytes pass as text
    _kind("txt", "text/plain; charset=utf-8", ".txt", "a text file"),
    _kind("csv", "text/csv; charset=utf-8", ".csv", "a CSV file"),
    _kind("tsv", "text/tab-separated-values; charset=utf-8", ".tsv", "a TSV file"),
    _kind("md", "text/markdown; charset=utf-8", ".md .markdown", "a Markdown file"),
]}
TEXT_KINDS = ("txt", "csv", "tsv", "md")

# filetype's answer → our kind. Anything it names that is not here (executables, HTML is
# not among its types, media, fonts, databases …) is refused as unsupported.
_FROM_FILETYPE = {
    "application/pdf": "pdf",
    "application/msword": "doc",
    "application/vnd.ms-excel": "xls",
    "application/vnd.ms-powerpoint": "ppt",
    "application/rtf": "rtf",
    "image/png": "png",
    "image/apng": "png",
    "image/jpeg": "jpeg",
    "image/gif": "gif",
    "image/webp": "webp",
    "image/tiff": "tiff",
    "image/heic": "heic",
    "application/zip": "zip",
    "application/gzip": "gzip",
    "application/x-tar": "tar",
    "application/x-7z-compressed": "7z",
    **{KINDS[name].content_type: name for name in ("docx", "xlsx", "pptx", "odt", "ods", "odp")},
}
_FILETYPE_LABELS = {
    "application/x-msdownload": "a Windows executable",
    "application/x-executable": "a Linux executable",
    "application/x-sharedlib": "a shared library",
    "application/vnd.microsoft.portable-executable": "a Windows executable",
}

# Markers of a document a browser would render and run (HTML, SVG, XML with a stylesheet).
# Inline tags such as <a> or <img> are left alone: Markdown allows them, and on their own
# they make no page.
_ACTIVE_MARKUP = re.compile(
    rb"<!doctype\s+html|<\?xml-stylesheet|<(?:html|head|body|script|svg|iframe|object|embed)"
    rb"[\s/>]",
    re.IGNORECASE,
)
_MARKER_OVERLAP = 32  # longer than any marker, so one split across two chunks is still seen


def allowed_kinds() -> dict[str, Kind]:
    names = settings.FILES_ALLOWED_TYPES
    unknown = sorted(set(names) - set(KINDS))
    if unknown:
        raise ImproperlyConfigured(
            f"FILES_ALLOWED_TYPES names unknown types {unknown}; known: {sorted(KINDS)}"
        )
    return {name: KINDS[name] for name in names}


def _refuse(detail: str, code: str, **extra) -> InvalidInput:
    return InvalidInput(detail, code=code, fields={"file": [detail]}, **extra)


def _chunks(stream: IO[bytes]) -> Iterable[bytes]:
    stream.seek(0)
    while chunk := stream.read(CHUNK):
        yield chunk
    stream.seek(0)


def _office_kind(stream: IO[bytes]) -> str | None:
    """Tell Office Open XML and OpenDocument files inside a zip by their directory, for
    the files whose entry order filetype's quick look misses."""
    stream.seek(0)
    try:
        with zipfile.ZipFile(stream) as archive:
            names = set(archive.namelist())
            if "mimetype" in names:
                declared = archive.read("mimetype")[:100].decode("ascii", "replace").strip()
                for name in ("odt", "ods", "odp"):
                    if declared == KINDS[name].content_type:
                        return name
            if "[Content_Types].xml" in names:
                for name, part in (("docx", "word/"), ("xlsx", "xl/"), ("pptx", "ppt/")):
                    if any(entry.startswith(part) for entry in names):
                        return name
    except (zipfile.BadZipFile, OSError, RuntimeError, ValueError):
        return None
    finally:
        stream.seek(0)
    return None


def _is_plain_text(stream: IO[bytes]) -> bool:
    """UTF-8 throughout, no NUL, and nothing a browser would run."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    tail = b""
    for chunk in _chunks(stream):
        if b"\x00" in chunk:
            return False
        try:
            decoder.decode(chunk)
        except UnicodeDecodeError:
            return False
        window = tail + chunk
        if _ACTIVE_MARKUP.search(window):
            return False
        tail = window[-_MARKER_OVERLAP:]
    try:
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def _looks_like_markup(head: bytes) -> bool:
    return _ACTIVE_MARKUP.search(head) is not None


def detect(stream: IO[bytes], *, name: str, extension: str) -> Kind:
    """The kind of the upload, if the room accepts it and its name agrees; else 400."""
    allowed = allowed_kinds()
    accepted = ", ".join(sorted({ext for kind in allowed.values() for ext in kind.extensions}))
    stream.seek(0)
    head = stream.read(HEAD_BYTES)
    stream.seek(0)

    guess = filetype.guess(head)
    if guess is not None:
        kind_name = _FROM_FILETYPE.get(guess.mime)
        if kind_name == "zip":
            kind_name = _office_kind(stream) or "zip"
        if kind_name is None:
            label = _FILETYPE_LABELS.get(guess.mime, f"of type {guess.mime}")
            raise _refuse(f"{name} is {label}, which cannot be shared here.",
                          error_codes.UNSUPPORTED_TYPE, detected=guess.mime)
    elif _looks_like_markup(head) or not _is_plain_text(stream):
        # No signature and not clean text: HTML, SVG, script, or an unknown binary format.
        detail = (f"{name} contains HTML or script, which cannot be shared here (browsers "
                  "would run it)." if _looks_like_markup(head)
                  else f"{name} is of a type that cannot be shared here.")
        raise _refuse(detail, error_codes.UNSUPPORTED_TYPE, detected=None)
    else:
        # Text: the extension says which text it is; none or another's means a mismatch.
        kind_name = next((text for text in TEXT_KINDS if extension in KINDS[text].extensions),
                         "txt")

    kind = KINDS[kind_name]
    if kind_name not in allowed:
        raise _refuse(f"{name} is {kind}, which cannot be shared here. Accepted: {accepted}.",
                      error_codes.UNSUPPORTED_TYPE, detected=kind.content_type)
    if extension not in kind.extensions:
        if extension and not any(extension in k.extensions for k in allowed.values()):
            raise _refuse(f"Files ending in {extension} cannot be shared here. "
                          f"Accepted: {accepted}.", error_codes.UNSUPPORTED_TYPE,
                          detected=kind.content_type)
        named = f"is named {extension}" if extension else "has no extension"
        raise _refuse(
            f"{name} {named} but its content is {kind}; rename it to "
            f"{'/'.join(sorted(kind.extensions))} or share the right file.",
            error_codes.TYPE_MISMATCH,
            detected=kind.content_type,
        )
    return kind
