"""Redact secret values from any text that leaves a sync: log lines, errors, metadata.

A program can print a secret in many spellings: raw, URL-encoded (either hex case, ``+``
or ``%20`` for spaces), JSON-escaped, as Python prints a ``str`` or ``bytes`` (``repr``
with either quote, ``ascii()``), base64 or base64url (also inside a longer encoded value,
such as an HTTP Basic ``id:secret`` header), or hex. :class:`Redactor` computes every one
of them once per run and masks each wherever it appears.

Values shorter than :data:`FULL_MATCH_LENGTH`, and values made only of digits, are
masked only as whole tokens, never inside a word or a number: a two-letter token must
not turn ``Database`` into ``Dat********ase``, nor a secret ``30`` a row count of 30 into
``********``. New secrets shorter than ``MIN_SECRET_LENGTH`` are refused at save time
(:mod:`integrations_platform.catalog.validation`), because their encoded forms cannot be
told apart from ordinary text.
"""

import base64
import json
import re
import sys
import tempfile
from collections.abc import Iterable
from pathlib import Path
from urllib.parse import quote, quote_plus

from integrations_platform.settings import PROJECT_ROOT, Settings

MASK = "********"
# Shorter values (stored before the minimum existed, or learned at run time) are masked
# only where they stand as a whole token.
FULL_MATCH_LENGTH = 4

_PCT = re.compile(r"%[0-9A-F]{2}")
_WORD = "0-9A-Za-z"


def _lower_percent(text: str) -> str:
    return _PCT.sub(lambda m: m.group(0).lower(), text)


def _python_escape(text: str, quote_char: str, ascii_only: bool) -> str:
    """How ``repr`` (or ``ascii``) spells ``text`` between ``quote_char`` quotes."""
    out = []
    for char in text:
        code = ord(char)
        if char in ("\\", quote_char):
            out.append("\\" + char)
        elif char == "\n":
            out.append("\\n")
        elif char == "\r":
            out.append("\\r")
        elif char == "\t":
            out.append("\\t")
        elif code < 0x20 or code == 0x7F:
            out.append(f"\\x{code:02x}")
        elif code < 0x7F:
            out.append(char)
        elif ascii_only or not char.isprintable():
            if code <= 0xFF:
                out.append(f"\\x{code:02x}")
            elif code <= 0xFFFF:
                out.append(f"\\u{code:04x}")
            else:
                out.append(f"\\U{code:08x}")
        else:
            out.append(char)
    return "".join(out)


# For a value starting at byte offset k (mod 3) of a longer base64-encoded input, the
# first encoded characters that depend on the value alone...
_B64_START = {0: 0, 1: 2, 2: 3}
# ...and how many characters of a trailing partial group depend on the value alone.
_B64_TAIL = {0: 0, 1: 1, 2: 2}


def _base64_cores(data: bytes) -> set[str]:
    """The base64 (and base64url) text that ``data`` produces at each byte alignment
    inside any longer input, without the edge characters its neighbours also shape."""
    cores = set()
    for offset in range(3):
        total = offset + len(data)
        encoded = base64.b64encode(b"\0" * offset + data).decode("ascii")
        core = encoded[_B64_START[offset] : 4 * (total // 3) + _B64_TAIL[total % 3]]
        if len(core) >= FULL_MATCH_LENGTH:
            cores.add(core)
            cores.add(core.translate(str.maketrans("+/", "-_")))
    return cores


def encoded_forms(secret: str) -> set[str]:
    """Every spelling of ``secret`` that :class:`Redactor` masks."""
    data = secret.encode("utf-8", "surrogatepass")
    forms = {secret}
    for encoded in (
        quote(secret, safe=""),
        quote(secret),  # "/" kept, as in URL paths
        quote_plus(secret, safe=""),
    ):
        forms.update({encoded, _lower_percent(encoded)})
    as_json = json.dumps(secret)[1:-1]
    forms.update(
        {
            as_json,
            re.sub(r"\\u([0-9a-f]{4})", lambda m: "\\u" + m.group(1).upper(), as_json),
            json.dumps(secret, ensure_ascii=False)[1:-1],
            json.dumps(as_json)[1:-1],  # JSON inside a JSON string (a JSON log line)
        }
    )
    for quote_char in ("'", '"'):
        for ascii_only in (False, True):
            python = _python_escape(secret, quote_char, ascii_only)
            forms.update({python, json.dumps(python)[1:-1]})
        # repr(bytes) spells each byte as ascii() spells the same code point.
        as_bytes = _python_escape(data.decode("latin-1"), quote_char, ascii_only=True)
        forms.update({as_bytes, json.dumps(as_bytes)[1:-1]})
    forms.update({data.hex(), data.hex().upper()})
    if len(secret) >= FULL_MATCH_LENGTH:
        forms.update(_base64_cores(data))
    forms.discard("")
    return forms


def _whole_token(form: str) -> re.Pattern[str]:
    before = f"(?<![{_WORD}])" if form[:1].isalnum() else ""
    after = f"(?![{_WORD}])" if form[-1:].isalnum() else ""
    return re.compile(before + re.escape(form) + after)


class Redactor:
    """Replaces every spelling of the given secret values with ``********``.

    Built once per run (the spellings are computed up front), then applied to each line.

    >>> Redactor(["s3cr=t-value"]).redact("body client_secret=s3cr%3Dt-value and 's3cr=t-value'")
    "body client_secret=******** and '********'"
    """

    def __init__(self, secrets: Iterable[str]) -> None:
        anywhere: set[str] = set()
        tokens: set[str] = set()
        for secret in secrets:
            if not secret:
                continue
            forms = encoded_forms(secret)
            if len(secret) < FULL_MATCH_LENGTH or secret.isdigit():
                tokens.update(forms)
            else:
                anywhere.update(forms)
        # Longest first, so that a value containing another is masked whole.
        self._anywhere = sorted(anywhere, key=len, reverse=True)
        self._tokens = [_whole_token(f) for f in sorted(tokens - anywhere, key=len, reverse=True)]

    def redact(self, text: str) -> str:
        """``text`` with every secret masked."""
        if not text:
            return text
        for form in self._anywhere:
            if form in text:
                text = text.replace(form, MASK)
        for pattern in self._tokens:
            text = pattern.sub(MASK, text)
        return text

    def __bool__(self) -> bool:
        return bool(self._anywhere or self._tokens)


class PathScrubber:
    """Replaces the server's own folders in messages shown to users.

    Tracebacks and tool errors name files under the project, the Python installation,
    the temporary folder or the user's home; a user of the page or the API needs the
    file's name, not where the server keeps it.
    """

    _FRAME = re.compile(r'File "(?:[^"]*/)?([^"/]+)"')

    def __init__(self, roots: Iterable[tuple[str | Path, str]] = ()) -> None:
        pairs = [(str(Path(root)), label) for root, label in roots]
        pairs += [
            (sys.prefix, "<python>"),
            (sys.base_prefix, "<python>"),
            (tempfile.gettempdir(), "<tmp>"),
            (str(Path.home()), "~"),
        ]
        seen: dict[str, str] = {}
        for root, label in pairs:
            if root not in ("", "/") and root not in seen:
                seen[root] = label
        self._roots = sorted(seen.items(), key=lambda item: len(item[0]), reverse=True)

    @classmethod
    def for_settings(cls, settings: Settings) -> "PathScrubber":
        """The platform's folders (its home, the project) besides the system's."""
        return cls(
            [
                (settings.home, "<home>"),
                (settings.meltano_project_dir, "<meltano>"),
                (settings.catalog_dir, "<catalog>"),
                (PROJECT_ROOT, "<project>"),
            ]
        )

    def scrub(self, text: str) -> str:
        """``text`` without the server's folder names."""
        if not text:
            return text
        text = self._FRAME.sub(r'File "\1"', text)
        for root, label in self._roots:
            if root in text:
                text = re.sub(re.escape(root) + r"(?=$|[/\s'\"),:])", label, text)
        return text
