"""The Spanish catalogues are complete, consistent and compiled.

The .po files are read with a small stdlib-only parser (no gettext tools needed in CI):
every live entry must be translated (all plural forms), none may be fuzzy, and every
``%(name)s`` placeholder of a msgid must survive in its msgstr. The committed .mo files
must match their .po files, and Django must find them at run time.
"""

from __future__ import annotations

import gettext as gettext_module
import re
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import translation

LOCALE_DIR = Path(settings.BASE_DIR) / "locale"
LANGUAGE = "es"
DOMAINS = ("django", "djangojs")
NPLURALS = 2
PLACEHOLDER = re.compile(r"%\((\w+)\)[-#0 +]*\d*(?:\.\d+)?[sdifr]")
ESCAPES = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\"}


@dataclass
class Entry:
    line: int
    flags: set[str] = field(default_factory=set)
    msgctxt: str | None = None
    msgid: str = ""
    msgid_plural: str | None = None
    msgstr: dict[int, str] = field(default_factory=dict)

    @property
    def key(self) -> str:
        return f"{self.msgctxt}\x04{self.msgid}" if self.msgctxt is not None else self.msgid


def _unquote(text: str, path: Path, lineno: int) -> str:
    text = text.strip()
    if len(text) < 2 or text[0] != '"' or text[-1] != '"':
        raise AssertionError(f"{path}:{lineno}: expected a quoted string, got {text!r}")
    body, out, i = text[1:-1], [], 0
    while i < len(body):
        if body[i] == "\\" and i + 1 < len(body):
            out.append(ESCAPES.get(body[i + 1], body[i + 1]))
            i += 2
        else:
            out.append(body[i])
            i += 1
    return "".join(out)


def parse_po(path: Path) -> list[Entry]:
    """Parse a .po file into its live entries (obsolete ``#~`` entries are skipped).

    Entries need not be separated by blank lines: a comment, msgctxt or msgid that
    follows a msgstr starts a new one.
    """
    entries: list[Entry] = []
    entry: Entry | None = None
    target: tuple[str, int | None] | None = None  # the field that continuation lines extend
    seen_msgstr = False

    def start(lineno: int) -> Entry:
        nonlocal seen_msgstr
        seen_msgstr = False
        new = Entry(line=lineno)
        entries.append(new)
        return new

    def append(value: str) -> None:
        assert entry is not None and target is not None
        name, index = target
        if name == "msgstr":
            entry.msgstr[index or 0] = entry.msgstr.get(index or 0, "") + value
        else:
            setattr(entry, name, (getattr(entry, name) or "") + value)

    for lineno, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = raw.strip()
        if not line:
            entry, target = None, None
            continue
        if line.startswith("#~"):
            continue
        starts_entry = line.startswith("#") or line.startswith(("msgctxt ", "msgid "))
        if entry is None or (seen_msgstr and starts_entry):
            entry = start(lineno)
        if line.startswith("#,"):
            entry.flags.update(f.strip() for f in line[2:].split(",") if f.strip())
        elif line.startswith("#"):
            continue
        elif line.startswith('"'):
            if target is None:
                raise AssertionError(f"{path}:{lineno}: continuation line outside a field")
            append(_unquote(line, path, lineno))
        else:
            keyword, _, rest = line.partition(" ")
            match = re.fullmatch(r"msgstr\[(\d+)\]", keyword)
            if keyword in ("msgctxt", "msgid", "msgid_plural"):
                target = (keyword, None)
                setattr(entry, keyword, "")
            elif keyword == "msgstr" or match:
                target = ("msgstr", int(match.group(1)) if match else 0)
                entry.msgstr[target[1]] = ""
                seen_msgstr = True
            else:
                raise AssertionError(f"{path}:{lineno}: unknown keyword {keyword!r}")
            append(_unquote(rest, path, lineno))
    return entries


def _header(entries: list[Entry]) -> dict[str, str]:
    headers = [e for e in entries if e.msgid == "" and e.msgctxt is None]
    assert len(headers) == 1, "expected exactly one header entry"
    pairs = (
        line.split(":", 1) for line in headers[0].msgstr.get(0, "").splitlines() if ":" in line
    )
    return {k.strip(): v.strip() for k, v in pairs}


def _po_path(domain: str) -> Path:
    return LOCALE_DIR / LANGUAGE / "LC_MESSAGES" / f"{domain}.po"


def _messages(domain: str) -> list[Entry]:
    return [e for e in parse_po(_po_path(domain)) if e.msgid != "" or e.msgctxt is not None]


def test_parser_reads_entries_without_separating_blank_lines(tmp_path: Path) -> None:
    po = tmp_path / "x.po"
    po.write_text(
        'msgid ""\nmsgstr ""\n"Language: es\\n"\n'
        '#: a.js:1\nmsgid "A \\"b\\""\nmsgstr "C"\n\n'
        '#, fuzzy, python-format\nmsgid "%(n)s x"\nmsgid_plural "%(n)s xs"\n'
        'msgstr[0] ""\n"%(n)s y"\nmsgstr[1] "%(n)s ys"\n\n#~ msgid "old"\n#~ msgstr ""\n',
        encoding="utf-8",
    )
    header, first, second = parse_po(po)
    assert _header([header]) == {"Language": "es"}
    assert (first.msgid, first.msgstr) == ('A "b"', {0: "C"})
    assert second.flags == {"fuzzy", "python-format"}
    assert second.msgid_plural == "%(n)s xs"
    assert second.msgstr == {0: "%(n)s y", 1: "%(n)s ys"}


@pytest.mark.parametrize("domain", DOMAINS)
def test_header(domain: str) -> None:
    entries = parse_po(_po_path(domain))
    header = _header(entries)
    assert header.get("Language") == LANGUAGE
    assert header.get("Plural-Forms") == f"nplurals={NPLURALS}; plural=(n != 1);"
    assert "charset=UTF-8" in header.get("Content-Type", "")
    assert not any("fuzzy" in e.flags for e in entries if e.msgid == ""), "header is fuzzy"


@pytest.mark.parametrize("domain", DOMAINS)
def test_every_entry_is_translated_and_not_fuzzy(domain: str) -> None:
    messages = _messages(domain)
    assert messages, f"{domain}.po has no messages"
    problems = []
    for e in messages:
        if "fuzzy" in e.flags:
            problems.append(f"line {e.line}: fuzzy: {e.msgid!r}")
        expected = set(range(NPLURALS)) if e.msgid_plural is not None else {0}
        if set(e.msgstr) != expected:
            problems.append(
                f"line {e.line}: forms {sorted(e.msgstr)} != {sorted(expected)}: {e.msgid!r}"
            )
        if not all(e.msgstr.get(i, "").strip() for i in expected):
            problems.append(f"line {e.line}: untranslated: {e.msgid!r}")
    assert not problems, f"{domain}.po:\n" + "\n".join(problems)


@pytest.mark.parametrize("domain", DOMAINS)
def test_placeholders_are_kept(domain: str) -> None:
    problems = []
    for e in _messages(domain):
        forms = sorted(e.msgstr.items())
        for index, text in forms:
            source = e.msgid if index == 0 or e.msgid_plural is None else e.msgid_plural
            wanted = set(PLACEHOLDER.findall(source))
            if e.msgid_plural is not None:
                # A plural form may use whichever names either source form uses.
                allowed = (
                    wanted
                    | set(PLACEHOLDER.findall(e.msgid_plural))
                    | set(PLACEHOLDER.findall(e.msgid))
                )
            else:
                allowed = wanted
            found = set(PLACEHOLDER.findall(text))
            if wanted - found:
                problems.append(
                    f"line {e.line}: msgstr[{index}] lacks {sorted(wanted - found)}: {e.msgid!r}"
                )
            if found - allowed:
                problems.append(
                    f"line {e.line}: msgstr[{index}] adds {sorted(found - allowed)}: {e.msgid!r}"
                )
    assert not problems, f"{domain}.po:\n" + "\n".join(problems)


@pytest.mark.parametrize("domain", DOMAINS)
def test_compiled_catalogue_matches_po(domain: str) -> None:
    mo = _po_path(domain).with_suffix(".mo")
    assert mo.exists(), f"{mo} is missing: run manage.py compilemessages"
    with mo.open("rb") as fh:
        compiled = gettext_module.GNUTranslations(fh)
    stale = []
    for e in _messages(domain):
        if e.msgid_plural is None:
            got = compiled.pgettext(e.msgctxt, e.msgid) if e.msgctxt else compiled.gettext(e.msgid)
            if got != e.msgstr[0]:
                stale.append(e.msgid)
        else:
            for n, index in ((1, 0), (2, 1)):
                if compiled.ngettext(e.msgid, e.msgid_plural, n) != e.msgstr[index]:
                    stale.append(e.msgid)
    assert not stale, f"{mo} is out of date (run manage.py compilemessages): {stale}"


def test_django_finds_the_spanish_catalogue() -> None:
    with translation.override("es"):
        assert translation.gettext("Sign in") == "Iniciar sesión"
        assert translation.gettext("Create an account") == "Crear una cuenta"
        assert (
            translation.ngettext("%(counter)s review", "%(counter)s reviews", 3)
            == "%(counter)s reseñas"
        )
    with translation.override("en"):
        assert translation.gettext("Sign in") == "Sign in"


def test_javascript_catalogue_is_served_in_spanish(client) -> None:
    response = client.get("/jsi18n/", HTTP_ACCEPT_LANGUAGE="es")
    assert response.status_code == 200
    body = response.content.decode()
    assert '"Open the room": "Abrir la sala"' in body
