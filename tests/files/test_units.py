"""The pieces on their own: names, ranges, content detection."""

from __future__ import annotations

import io

import pytest

from config.errors import InvalidInput
from files import content_types, downloads, names

from .conftest import HTML, pdf, zipped


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("report.pdf", "report.pdf"),
        ("../../x", "x"),
        ("C:\\Users\\ana\\Desktop\\plan.xlsx", "plan.xlsx"),
        ("rapport\u202etxt.exe", "rapport txt.exe"),
        ("zero\u200bwidth.txt", "zero width.txt"),
        ("line\nbreak.txt", "line break.txt"),
        ('quote"s.txt', "quote_s.txt"),
        ("...", "file"),
        ("", "file"),
        ("nul.txt", "_nul.txt"),
        ("e\u0301te\u0301.txt", "été.txt"),  # NFC: one form for the same name
        ("trailing. . .", "trailing"),
    ],
)
def test_sanitise(raw, clean):
    assert names.sanitise(raw) == clean


def test_sanitise_cuts_long_names_but_keeps_the_extension():
    assert names.sanitise("a" * 400 + ".docx") == "a" * 250 + ".docx"
    assert len(names.sanitise("b" * 400)) == 255
    assert names.sanitise("c." + "d" * 400) == "c." + "d" * 253


def test_extension_and_version_key():
    assert names.extension_of("Report.PDF") == ".pdf"
    assert names.extension_of("archive.tar.gz") == ".gz"
    assert names.extension_of("README") == ""
    assert names.version_key("Plan.PDF") == names.version_key("plan.pdf")
    assert names.version_key("Straße.txt") == names.version_key("STRASSE.txt")


@pytest.mark.parametrize(
    ("name", "header"),
    [
        ("plan.pdf", 'attachment; filename="plan.pdf"'),
        ("año.pdf", "attachment; filename=\"ano.pdf\"; filename*=UTF-8''a%C3%B1o.pdf"),
        ("東京.pdf", "attachment; filename=\"file.pdf\"; filename*=UTF-8''%E6%9D%B1%E4%BA%AC.pdf"),
        ("50% off; x=y.pdf", "attachment; filename=\"50% off; x=y.pdf\""),
    ],
)
def test_content_disposition(name, header):
    assert names.content_disposition(name) == header


@pytest.mark.parametrize(
    ("header", "size", "expected"),
    [
        (None, 10, None),
        ("bytes=0-0", 10, (0, 0)),
        ("bytes=2-", 10, (2, 9)),
        ("bytes=-3", 10, (7, 9)),
        ("bytes=5-100", 10, (5, 9)),
        ("bytes= 1 - 2", 10, (1, 2)),
        ("bytes=3-1", 10, None),
        ("bytes=0-1,3-4", 10, None),
        ("pages=1-2", 10, None),
    ],
)
def test_parse_range(header, size, expected):
    assert downloads.parse_range(header, size) == expected


@pytest.mark.parametrize("header", ["bytes=10-", "bytes=10-20", "bytes=-0"])
def test_parse_range_unsatisfiable(header):
    with pytest.raises(downloads.Unsatisfiable):
        downloads.parse_range(header, 10)


def _detect(name: str, data: bytes) -> str:
    return content_types.detect(io.BytesIO(data), name=name,
                                extension=names.extension_of(name)).name


def test_markup_is_found_across_chunk_boundaries():
    chunk = content_types.CHUNK
    text = b"a" * (chunk - 4) + b"<script>alert(1)</script>\n"
    with pytest.raises(InvalidInput) as refused:
        _detect("notes.txt", text)
    assert refused.value.code == "unsupported_type"
    assert _detect("notes.txt", b"a" * (chunk - 4) + b"<scr ipt>\n") == "txt"


def test_utf8_split_across_chunks_is_still_text_and_a_broken_tail_is_not():
    chunk = content_types.CHUNK
    text = b"a" * (chunk - 1) + "é".encode() + b"\n"
    assert _detect("notes.txt", text) == "txt"
    with pytest.raises(InvalidInput):
        _detect("notes.txt", b"abc" + "é".encode()[:1])


def test_markup_far_into_the_file_is_found():
    with pytest.raises(InvalidInput):
        _detect("data.csv", b"a,b\n" * 100_000 + HTML)


def test_office_files_are_told_from_zips_by_their_directory():
    # filetype looks for "word/" among the first entries; here it comes last.
    late = zipped([("[Content_Types].xml", b"<Types/>")]
                  + [(f"customXml/item{i}.xml", b"x" * 3000) for i in range(5)]
                  + [("word/document.xml", b"<w/>")])
    assert _detect("report.docx", late) == "docx"
    odt = zipped([("mimetype", b"application/vnd.oasis.opendocument.text"),
                  ("content.xml", b"<x/>")])
    assert _detect("paper.odt", odt) == "odt"
    assert _detect("bundle.zip", zipped([("a.txt", b"a")])) == "zip"


def test_unknown_type_names_in_settings_fail_loudly(settings):
    from django.core.exceptions import ImproperlyConfigured

    settings.FILES_ALLOWED_TYPES = ["pdf", "exe"]
    with pytest.raises(ImproperlyConfigured):
        _detect("a.pdf", pdf())


def test_the_service_hashes_uploads_that_did_not_stream_through_the_handler(
        client_user, engagement, file_dirs):
    import hashlib

    from django.core.files.uploadedfile import SimpleUploadedFile

    from files import services

    data = pdf(5000)
    shared = services.share_file(room_id=engagement["id"], by=client_user,
                                 upload=SimpleUploadedFile("../a.pdf", data))
    assert shared.sha256 == hashlib.sha256(data).hexdigest()
    assert shared.name == "a.pdf"


def test_daphne_requests_do_not_parse_multipart_bodies_into_memory():
    """files.apps turns off twisted.web's multipart parse of every POST (≈10× the upload
    in memory) in daphne processes; daphne never reads what it parses."""
    from daphne.http_protocol import WebRequest

    from files.apps import _stop_twisted_parsing_uploads

    _stop_twisted_parsing_uploads()
    request = object.__new__(WebRequest)
    request._parsePOSTFormSubmission = True  # what twisted's Request.__init__ does
    assert request._parsePOSTFormSubmission is False
