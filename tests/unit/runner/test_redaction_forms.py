"""Every spelling a program may print a secret in is masked; nothing else changes.

The encodings are computed here with the standard library, independently of the
redactor's own list, so that a form the redactor forgets makes a test fail.
"""

import base64
import binascii
import json
import re
from urllib.parse import quote, quote_plus, urlencode

import pytest
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

from integrations_platform.runner.redaction import MASK, PathScrubber, Redactor


def printed_forms(secret: str, user: str = "integration-user") -> dict[str, str]:
    """How programs print ``secret``: each a text in which the secret (only) must go."""
    data = secret.encode("utf-8")
    forms = {
        "raw": secret,
        "url": quote(secret, safe=""),
        "url-lower": re.sub("%..", lambda m: m.group(0).lower(), quote(secret, safe="")),
        "url-path": quote(secret),
        "form-plus": quote_plus(secret),
        "form-body": urlencode({"client_secret": secret}),
        "json": json.dumps({"client_secret": secret}),
        "json-unicode": json.dumps({"client_secret": secret}, ensure_ascii=False),
        "json-in-json": json.dumps({"event": json.dumps({"client_secret": secret})}),
        "py-dict": repr({"client_secret": secret, "grant_type": "refresh_token"}),
        "py-str": repr(secret),
        "py-str-quoted": repr(secret + "'"),  # Python switches to double quotes
        "py-ascii": ascii(secret),
        "py-bytes": repr(data),
        "py-dict-bytes": repr({"body": data}),
        "py-repr-in-json": json.dumps({"event": repr({"client_secret": secret})}),
        "base64": base64.b64encode(data).decode(),
        "base64url": base64.urlsafe_b64encode(data).decode(),
        "base64-unpadded": base64.b64encode(data).decode().rstrip("="),
        "basic": "Basic " + base64.b64encode(f"{user}:{secret}".encode()).decode(),
        "basic-url": base64.urlsafe_b64encode(f"u:{secret}".encode()).decode(),
        "hex": binascii.hexlify(data).decode(),
        "hex-upper": binascii.hexlify(data).decode().upper(),
    }
    return {name: f"<<{text}>>" for name, text in forms.items()}


# Everything a secret can hold: quotes, backslashes, newlines, non-ASCII, emoji.
AWKWARD = "ab'c\"d\\e-xü\nz/+ %&=é😀\t"


@pytest.mark.parametrize("name", list(printed_forms(AWKWARD)))
def test_each_printed_form_of_an_awkward_secret_is_masked(name: str) -> None:
    text = printed_forms(AWKWARD)[name]
    redacted = Redactor([AWKWARD]).redact(text)
    assert MASK in redacted
    assert_no_form_survives(AWKWARD, redacted)


def assert_no_form_survives(secret: str, redacted: str) -> None:
    """None of the secret's printed forms (stripped of the test's brackets) remains."""
    for name, form in printed_forms(secret).items():
        core = form[2:-2]
        if name.startswith("basic"):
            continue  # checked through the value alone below
        assert core not in redacted, name


def _secrets() -> st.SearchStrategy[str]:
    # The bounds the platform enforces: 8 characters to 16 KiB, tab/newline/CR but no
    # other control character, no lone surrogate.
    alphabet = st.characters(
        blacklist_categories=("Cs",),
        blacklist_characters=[chr(c) for c in range(32) if chr(c) not in "\t\n\r"] + ["\x7f"],
    )
    # A secret that contains the mask itself cannot be told from its masked form: the
    # mask "leaves" it in the text. Every other secret must go.
    generated = st.text(alphabet=alphabet, min_size=8, max_size=64).filter(
        lambda secret: MASK not in secret
    )
    return generated | st.sampled_from(
        [AWKWARD, "12345678", "x" * 8, "\\'\"\\\"'\n\n\n\\", "é" * 8, "😀" * 8]
    )


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(secret=_secrets(), form=st.sampled_from(sorted(printed_forms("x" * 8))))
@example(secret=AWKWARD, form="py-dict")
@example(secret="ab'c\"d\\e", form="py-dict")
@example(secret="xü\nz-token", form="py-dict")
def test_no_printed_form_survives(secret: str, form: str) -> None:
    text = printed_forms(secret)[form]
    redacted = Redactor([secret]).redact(text)
    if secret.isdigit():
        # Digits-only values are masked as whole numbers only: inside a longer
        # base64 or hex run they are left alone, by design.
        assume(form in ("raw", "json", "py-str", "py-dict", "url", "form-plus"))
    assert redacted != text
    if form.startswith("basic"):
        # What is left of the header must not decode to anything containing the secret.
        payload = redacted.split(" ")[-1].strip("<>")
        assert MASK in payload
        return
    assert_no_form_survives(secret, redacted)


@settings(max_examples=300, deadline=None)
@given(secret=_secrets(), text=st.text(max_size=300))
def test_text_without_the_secret_is_unchanged(secret: str, text: str) -> None:
    assume(all(form[2:-2] not in text for form in printed_forms(secret).values()))
    assume(MASK not in text)
    assert Redactor([secret]).redact(text) == text


@given(secret=_secrets(), before=st.text(max_size=50), after=st.text(max_size=50))
@settings(max_examples=200, deadline=None)
def test_the_secret_between_any_text_is_masked(secret: str, before: str, after: str) -> None:
    assume(not secret.isdigit())
    redacted = Redactor([secret]).redact(before + secret + after)
    assert secret not in redacted
    assert MASK in redacted


def test_short_values_are_masked_only_as_whole_tokens() -> None:
    # Stored before the minimum length existed: never inside a word or a number.
    redactor = Redactor(["ab", "30"])
    assert redactor.redact("Database ab") == f"Database {MASK}"
    assert redactor.redact('METRIC: {"value": 30} 300 130 x30') == (
        f'METRIC: {{"value": {MASK}}} 300 130 x30'
    )


def test_digits_only_secret_is_not_masked_inside_longer_numbers() -> None:
    redactor = Redactor(["12345678"])
    assert redactor.redact("rows=123456789 id=12345678") == f"rows=123456789 id={MASK}"


def test_a_large_secret_is_masked_quickly() -> None:
    secret = ("ab'c\"d\\e-xü\n" * 1500)[:16_000]
    redactor = Redactor([secret])
    line = "x" * 200 + repr(secret) + "y" * 200
    assert secret not in redactor.redact(line) and MASK in redactor.redact(line)
    for _ in range(2000):  # a typical run's worth of lines without the secret
        assert redactor.redact("INFO some ordinary log line of a sync, 1234 rows") != MASK


def test_server_paths_are_hidden() -> None:
    scrubber = PathScrubber([("/srv/platform/home", "<home>")])
    text = (
        'Traceback:\n  File "/srv/platform/home/runs/x/site.py", line 3\n'
        "could not open /srv/platform/home/integrations.db: denied; "
        "see /srv/platform/homework (not ours)"
    )
    scrubbed = scrubber.scrub(text)
    assert "/srv/platform/home/" not in scrubbed
    assert 'File "site.py", line 3' in scrubbed
    assert "<home>/integrations.db" in scrubbed
    assert "/srv/platform/homework" in scrubbed  # only whole folder names
