"""One failure vocabulary: connection tests and notifications speak the same words."""

from typing import get_args

import pytest

from integrations_platform.catalog import load_catalog
from integrations_platform.failures import CATEGORY_LABELS, FailureCategory, classify_text
from integrations_platform.notifications.classifier import classify_failure, suggested_action
from integrations_platform.runner.connection_test.meltano import _hint
from integrations_platform.settings import PROJECT_ROOT

CATEGORIES = get_args(FailureCategory)


def test_every_cause_has_a_label_a_test_hint_and_a_sync_action():
    postgres = load_catalog(PROJECT_ROOT / "connector_catalog").get("postgres")
    assert set(CATEGORY_LABELS) == set(CATEGORIES)
    for category in CATEGORIES:
        assert len(suggested_action(category, "crm", "http://api/#/integrations/crm")) > 60
        assert len(_hint(category, postgres, 10.0)) > 40, category


@pytest.mark.parametrize(
    ("line", "category"),
    [
        ('FATAL:  password authentication failed for user "u"', "authentication"),
        ('FATAL:  database "nope" does not exist', "configuration"),
        ("connection to server at 127.0.0.1 failed: Connection refused", "network"),
        ("permission denied for table orders", "permission"),
        ("REQUEST_LIMIT_EXCEEDED: TotalRequests Limit exceeded.", "rate_limit"),
        ('relation "public.orders" does not exist', "source"),
        ("KeyError: 'properties'", "connector"),
    ],
)
def test_a_test_and_a_sync_that_fail_alike_get_the_same_word(line, category):
    assert classify_text(line) == category
    sync_failure = (
        f"Meltano exited with 1.\nErrors:\n[tap-postgres] {line}\n[meltano] Extraction failed"
    )
    assert classify_failure(sync_failure).category == category
