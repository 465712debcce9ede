"""File names as people gave them, made safe to show, to compare and to send back.

The name is only ever *displayed* (in the room and in the download header): the bytes are
stored under a random key, so no name reaches a file system path.
"""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import quote

MAX_NAME_LENGTH = 255
FALLBACK_NAME = "file"

# Characters Windows refuses in names and shells treat specially; harmless here, but a
# downloaded file keeps the name, so it has to be one every desktop can save.
_RESERVED = re.compile(r'[<>:"/\\|?*]')
_WHITESPACE = re.compile(r"\s+")
_WINDOWS_DEVICES = {
    "CON", "PRN", "AUX", "NUL",
    *(f"COM{i}" for i in range(1, 10)),
    *(f"LPT{i}" for i in range(1, 10)),
}


def _visible(char: str) -> bool:
    # Cc: control characters; Cf: format characters, among them the bidi overrides that
    # make "cod.exe" look like "exe.doc"; Cs/Co/Cn: surrogates, private use, unassigned.
    return unicodedata.category(char) not in {"Cc", "Cf", "Cs", "Co", "Cn"}


def sanitise(raw: str) -> str:
    """The display name of an upload: its last path part, visible characters only, no
    reserved characters, no leading dots, at most 255 characters (keeping the extension)."""
    name = unicodedata.normalize("NFC", raw or "")
    # Only the last path part, whichever separator the client's system used.
    name = re.split(r"[/\\]", name)[-1]
    name = "".join(char if _visible(char) else " " for char in name)
    name = _RESERVED.sub("_", name)
    name = _WHITESPACE.sub(" ", name).strip()
    # No hidden files ("..", ".htaccess") and no trailing dots (Windows drops them).
    name = name.lstrip(". ").rstrip(". ")
    if not name:
        return FALLBACK_NAME
    stem, dot, extension = name.rpartition(".")
    if not dot:
        stem, extension = name, ""
    if stem.split(".")[0].upper() in _WINDOWS_DEVICES:
        name = f"_{name}"
    if len(name) > MAX_NAME_LENGTH:
        # Keep the extension (it decides the type check) unless it alone is absurdly long.
        suffix = f".{extension}" if dot and len(extension) <= 16 else ""
        name = name[: MAX_NAME_LENGTH - len(suffix)].rstrip(". ") + suffix
    return name


def extension_of(name: str) -> str:
    """The lower-case extension with its dot (".pdf"), or "" when there is none."""
    stem, dot, extension = name.rpartition(".")
    return f".{extension.lower()}" if dot and stem else ""


def version_key(name: str) -> str:
    """What makes two uploads versions of one document: the same name, ignoring case, as
    the desktop file systems people download to do."""
    return name.casefold()[:MAX_NAME_LENGTH]


def ascii_fallback(name: str) -> str:
    """An ASCII stand-in for clients that ignore ``filename*`` (accents dropped, the rest
    replaced)."""
    decomposed = unicodedata.normalize("NFKD", name)
    ascii_name = "".join(c for c in decomposed if c.isascii() and 32 <= ord(c) < 127)
    ascii_name = ascii_name.replace('"', "_").replace("\\", "_").strip()
    extension = extension_of(name)
    if not extension.isascii():
        extension = ""
    stem = ascii_name[: -len(extension)] if extension else ascii_name
    if not stem.strip(". _-") or not ascii_name.lower().endswith(extension):
        ascii_name = f"{FALLBACK_NAME}{extension}"
    return ascii_name


def content_disposition(name: str) -> str:
    """``attachment`` with the name in both forms of RFC 6266: a quoted ASCII fallback and,
    when the name is not plain ASCII, the exact UTF-8 name in ``filename*``."""
    fallback = ascii_fallback(name)
    header = f'attachment; filename="{fallback}"'
    if fallback != name:
        header += f"; filename*=UTF-8''{quote(name, safe='')}"
    return header
