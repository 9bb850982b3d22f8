"""The wizard page in a real headless Chromium, against the real API, a real
``dagster dev`` and the Salesforce sandbox: the user's journeys, keyboard use,
accessibility (axe-core), and that no stored secret ever reaches the page after save."""

import dataclasses
import re
import uuid

import pytest
import sqlalchemy as sa
from playwright.sync_api import Page, expect

from integrations_platform.catalog import load_catalog
from integrations_platform.notifications import NotificationService, NotificationSettings
from integrations_platform.settings import PROJECT_ROOT
from tests.conftest import START
from tests.e2e.support import (
    CLIENT_ID,
    ResponseRecorder,
    Stack,
    accessibility_violations,
    active_element,
    input_values,
    screenshot,
    sign_in,
    storage_dump,
    tab_until,
)

pytestmark = pytest.mark.usefixtures("meltano_plugins")

# What tap-salesforce prints when Salesforce refuses the refresh token (as a sync fails).
AUTH_FAILURE = (
    "Errors:\n[tap-salesforce] CRITICAL 400 Client Error: Bad Request for url: "
    "http://127.0.0.1:1/services/oauth2/token, Response from Salesforce: "
    '{"error": "invalid_grant", "error_description": "expired access/refresh token"}'
)


# The marketplace shows the catalog's sources (community ones come and go with imports).
SOURCES = sorted(load_catalog(PROJECT_ROOT / "connector_catalog"), key=lambda c: c.id)
DATABASES = [c.label for c in SOURCES if c.category == "Database"]


def wizard_step(page: Page):  # noqa: ANN201 - a Playwright locator
    return page.locator('#wizard-steps [aria-current="step"]')


def fill_connection(wizard, stack: Stack, name: str) -> None:  # noqa: ANN001 - a locator
    """The integration's name and the sandbox's credentials, in the settings step."""
    wizard.get_by_label("Integration name").fill(name)
    wizard.get_by_label("Client ID").fill(CLIENT_ID)
    wizard.get_by_label("Client Secret").fill(stack.client_secret)
    wizard.get_by_label("Refresh Token").fill(stack.refresh_token)


def review_rows(review) -> dict[str, str]:  # noqa: ANN001 - a locator
    """The review step's list: label → what will be saved."""
    return dict(
        zip(
            review.locator("dt").all_inner_texts(),
            review.locator("dd").all_inner_texts(),
            strict=True,
        )
    )


def assert_accessible(page: Page, label: str, context: str | None = None) -> None:
    blocking = accessibility_violations(page, label, context)
    assert blocking == [], "\n".join(blocking)


def test_add_sync_edit_and_delete_a_salesforce_integration(
    page: Page, stack: Stack, artifacts
) -> None:
    stack.delete_all()
    recorder = ResponseRecorder().attach(page)
    sign_in(page, stack.api_url, stack.token)
    expect(page.locator("#connector-grid .card")).to_have_count(len(SOURCES))
    screenshot(page, artifacts, "marketplace")
    assert_accessible(page, "marketplace")

    # Step 1: choose the connector.
    page.get_by_role("button", name="Add integration").click()
    wizard = page.get_by_role("dialog", name="Add an integration")
    expect(wizard).to_be_visible()
    expect(wizard_step(page)).to_contain_text("Connector")
    wizard.get_by_role("radio", name=re.compile("Salesforce")).check()
    screenshot(page, artifacts, "wizard-1-connector")
    assert_accessible(page, "wizard step 1")
    wizard.get_by_role("button", name="Next", exact=True).click()

    # Step 2: the form from the connector's schema, advanced options collapsed.
    wizard = page.get_by_role("dialog", name="Add a Salesforce integration")
    expect(wizard_step(page)).to_contain_text("Settings")
    expect(wizard.get_by_label("API type")).to_be_hidden()
    labels = wizard.locator("#wizard-form label").all_inner_texts()
    assert [t.rstrip(" *") for t in labels[:4]] == [
        "Integration name",
        "Client ID",
        "Client Secret",
        "Refresh Token",
    ]
    wizard.get_by_label("Integration name").fill("crm_e2e")
    wizard.get_by_label("Client ID").fill(CLIENT_ID)
    wizard.get_by_label("Client Secret").fill(stack.client_secret)
    wizard.get_by_label("Refresh Token").fill("not-the-refresh-token")
    screenshot(page, artifacts, "wizard-2-settings")
    assert_accessible(page, "wizard step 2")
    wizard.get_by_role("button", name="Next", exact=True).click()

    # Step 3: a wrong token fails with its typed reason and hint.
    expect(wizard_step(page)).to_contain_text("Test connection")
    page.evaluate(
        """() => { window.__progressSeen = false;
            const bar = document.getElementById('test-progress');
            const status = document.getElementById('test-status');
            new MutationObserver(() => {
                if (!bar.hidden && status.getAttribute('aria-busy') === 'true') {
                    window.__progressSeen = true; } })
              .observe(status, {attributes: true, subtree: true}); }"""
    )
    wizard.get_by_role("button", name="Test connection").click()
    result = wizard.locator("#test-result .result")
    expect(result).to_have_attribute("data-ok", "false")
    expect(result).to_have_attribute("data-reason", "authentication")
    expect(result).to_contain_text("Connection failed — reason: authentication")
    expect(result).to_contain_text("Salesforce refused the refresh token")
    expect(result.locator(".result-hint")).to_contain_text("generate a new one")
    assert page.evaluate("window.__progressSeen") is True
    screenshot(page, artifacts, "wizard-3-test-failed")

    # The fix, and a passing test.
    result.get_by_role("button", name="Change the settings").click()
    expect(wizard_step(page)).to_contain_text("Settings")
    wizard.get_by_label("Refresh Token").fill(stack.refresh_token)
    wizard.get_by_role("button", name="Next", exact=True).click()
    wizard.get_by_role("button", name="Test connection").click()
    expect(result).to_have_attribute("data-ok", "true")
    expect(result).to_contain_text("Connection works")
    screenshot(page, artifacts, "wizard-3-test-passed")
    assert_accessible(page, "wizard step 3")

    # Step 4: the source's streams (discovered), what to sync and when.
    wizard.get_by_role("button", name="Next: streams").click()
    expect(wizard_step(page)).to_contain_text("Streams")
    expect(wizard.locator("#discovery-status")).to_contain_text("streams found", timeout=60_000)
    for stream in ("Contact", "Opportunity"):
        wizard.get_by_label("Filter streams").fill(stream)
        wizard.get_by_role("checkbox", name=stream, exact=True).uncheck()
    wizard.get_by_label("Filter streams").fill("")
    wizard.get_by_label("Start date").fill(START)
    screenshot(page, artifacts, "wizard-4-streams")
    assert_accessible(page, "wizard step 4")

    # Step 5: review, secrets only as "set".
    wizard.get_by_role("button", name="Next: review").click()
    expect(wizard_step(page)).to_contain_text("Review and save")
    review = wizard.locator("#wizard-review")
    rows = review_rows(review)
    assert rows["Client Secret"] == "set" and rows["Refresh Token"] == "set"
    assert rows["Client ID"] == CLIENT_ID and rows["Streams"] == "Account"
    assert rows["Connection test"] == "passed"
    screenshot(page, artifacts, "wizard-5-review")
    assert_accessible(page, "wizard step 5")
    wizard.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator("#wizard")).to_be_hidden()
    expect(page.locator("#toasts")).to_contain_text("Saved 'crm_e2e'.")
    for secret in (stack.client_secret, stack.refresh_token):
        assert secret not in page.content()
        assert not any(secret in value for value in input_values(page))

    # In the list, then synced through Dagster: status and row counts appear.
    row = page.locator('tr[data-name="crm_e2e"]')
    expect(row).to_contain_text("Enabled")
    expect(row.locator("[data-run-status]")).to_have_text("Never synced")
    expect(row.get_by_role("link", name="Open in Dagster")).to_have_attribute(
        "href", f"{stack.dagster_url}/asset-groups/crm_e2e"
    )
    expect(row.locator(".next-run time")).to_have_count(1)
    screenshot(page, artifacts, "installed")
    assert_accessible(page, "installed list")
    row.get_by_role("button", name="Sync now crm_e2e").click()
    expect(page.locator("#toasts")).to_contain_text("Sync of 'crm_e2e' started.")
    expect(row.locator('[data-run-status="SUCCESS"]')).to_be_visible(timeout=180_000)
    expect(row.locator('li[data-stream="Account"] .count')).to_have_text("30")
    expect(row.locator(".last-sync time")).to_have_count(1)
    expect(row.get_by_role("link", name="Open run of crm_e2e")).to_have_attribute(
        "href", re.compile(re.escape(f"{stack.dagster_url}/runs/"))
    )
    screenshot(page, artifacts, "installed-synced")

    # The run view: the runs of the integration, and the redacted log of one.
    row.get_by_role("button", name="Runs of crm_e2e").click()
    runs = page.get_by_role("dialog", name="Runs of crm_e2e")
    expect(runs.locator('[data-run-status="SUCCESS"]')).to_have_count(1)
    runs.get_by_role("button", name=re.compile("^Show log")).click()
    log = runs.locator("#run-log")
    expect(log).to_contain_text("Account")
    assert stack.client_secret not in log.inner_text()
    assert stack.refresh_token not in log.inner_text()
    screenshot(page, artifacts, "run-log")
    assert_accessible(page, "run view")
    page.keyboard.press("Escape")
    expect(runs).to_be_hidden()

    # Edit without re-entering the secrets: blank means keep.
    row.get_by_role("button", name="Edit crm_e2e").click()
    wizard = page.get_by_role("dialog", name="Edit crm_e2e")
    expect(wizard).to_be_visible()
    expect(wizard.get_by_label("Integration name")).to_be_disabled()
    for label, key in (("Client Secret", "client_secret"), ("Refresh Token", "refresh_token")):
        expect(wizard.get_by_label(label)).to_have_value("")
        expect(wizard.locator(f"#field-config-{key}-hint")).to_have_text(
            "Set — leave blank to keep the stored value."
        )
    screenshot(page, artifacts, "wizard-edit")
    wizard.get_by_role("button", name="Next", exact=True).click()
    wizard.get_by_role("button", name="Test connection").click()
    result, review = wizard.locator("#test-result .result"), wizard.locator("#wizard-review")
    expect(result).to_have_attribute("data-ok", "true")
    wizard.get_by_role("button", name="Next: streams").click()
    # Its first sync discovered the source and stored it: the stored streams are offered.
    expect(wizard.locator("#discovery-status")).to_contain_text("streams found (read")
    wizard.get_by_label("Filter streams").fill("Contact")
    wizard.get_by_role("checkbox", name="Contact", exact=True).check()
    wizard.get_by_label("Filter streams").fill("")
    wizard.get_by_role("button", name="Next: review").click()
    expect(wizard.locator("#wizard-review")).to_contain_text("Client Secret")
    rows = review_rows(review)
    assert rows["Client Secret"] == "set" and rows["Streams"] == "Account, Contact"
    wizard.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator("#wizard")).to_be_hidden()
    expect(row.locator('li[data-stream="Account"]')).to_be_visible()
    stored = stack.api("GET", "/api/v1/integrations/crm_e2e").json()
    assert stored["version"] == 2
    assert [s["name"] for s in stored["streams"]] == ["Account", "Contact"]
    assert stored["secrets"] == {"client_secret": "set", "refresh_token": "set"}
    # The stored secrets still work.
    tested = stack.api("POST", "/api/v1/integrations/crm_e2e/test").json()
    assert tested["ok"] is True, tested

    # Delete, with a confirmation.
    row.get_by_role("button", name="Delete crm_e2e").click()
    confirm = page.get_by_role("alertdialog", name="Delete crm_e2e?")
    expect(confirm).to_be_visible()
    confirm.get_by_role("button", name="Delete crm_e2e").click()
    expect(row).to_have_count(0)
    expect(page.locator("#toasts")).to_contain_text("Deleted 'crm_e2e'.")
    assert stack.api("GET", "/api/v1/integrations/crm_e2e").status_code == 404

    # No stored secret in any response, the page, or the browser's storage.
    assert recorder.unreadable == []
    assert len(recorder.bodies) > 20
    assert any("/api/v1/integrations" in url for url, _ in recorder.bodies)
    html, storage, values = page.content(), storage_dump(page), input_values(page)
    for secret in (stack.client_secret, stack.refresh_token):
        assert recorder.containing(secret) == []
        assert secret not in html
        assert secret not in storage
        assert not any(secret in value for value in values)
    assert stack.token in storage  # the token, and only it, is kept for the session


def test_marketplace_search_and_category_filter(page: Page, stack: Stack) -> None:
    sign_in(page, stack.api_url, stack.token)
    cards = page.locator("#connector-grid .card")
    count = page.locator("#marketplace-count")
    expect(cards).to_have_count(len(SOURCES))
    expect(count).to_have_text(f"{len(SOURCES)} connectors available.")
    categories = page.get_by_label("Category").locator("option").all_inner_texts()
    assert categories == ["All categories", *sorted({c.category for c in SOURCES})]

    # A token the API no longer accepts: the page asks again (at the token), then carries on.
    page.evaluate("sessionStorage.setItem('integrations.apiToken', 'a-revoked-token-000000')")
    search = page.get_by_label("Search connectors")
    search.fill("salesforce")
    prompt = page.get_by_role("dialog", name="Sign in")
    expect(prompt).to_be_visible()
    expect(prompt.locator("#token-error")).to_have_text(
        "The API refused the token: enter it again."
    )
    prompt.get_by_label("API token").fill("still-not-the-token-0000")
    prompt.get_by_role("button", name="Connect").click()
    expect(prompt.locator("#token-error")).to_have_text("The API does not accept this token.")
    prompt.get_by_label("API token").fill(stack.token)
    prompt.get_by_role("button", name="Connect").click()
    expect(prompt).to_be_hidden()
    expect(cards).to_have_count(1)
    expect(cards.first.locator(".card-title")).to_have_text("Salesforce")
    expect(count).to_have_text("1 connector matches.")
    search.fill("opportunity")  # what it syncs
    expect(cards.locator(".card-title")).to_have_text(["Salesforce"])
    search.fill("no-such-connector")
    expect(cards).to_have_count(0)
    expect(count).to_have_text('No connector matches "no-such-connector".')

    search.fill("")
    page.get_by_label("Category").select_option("Database")
    expect(cards.locator(".card-title")).to_have_text(DATABASES)
    search.fill("salesforce")
    expect(cards).to_have_count(0)
    expect(count).to_have_text('No connector matches "salesforce" in Database.')
    search.fill("")
    expect(cards.locator(".card-title")).to_have_text(DATABASES)

    # Tiers: verified (synced end to end in the tests) and community.
    page.get_by_label("Category").select_option("")
    verified = [c for c in SOURCES if c.tier == "verified"]
    page.get_by_label("Tier").select_option("community")
    expect(cards).to_have_count(len(SOURCES) - len(verified))
    expect(cards.locator("[data-tier]").first).to_have_text("Community")
    page.get_by_label("Tier").select_option("verified")
    expect(cards).to_have_count(len(verified))
    expect(cards.locator("[data-tier]")).to_have_text(["Verified"] * len(verified))
    page.get_by_label("Tier").select_option("")
    page.get_by_label("Category").select_option("Database")
    expect(cards.locator(".card-title")).to_have_text(DATABASES)

    # A card's button opens the wizard with that connector chosen.
    page.get_by_role("button", name="Add PostgreSQL").click()
    wizard = page.get_by_role("dialog", name="Add a PostgreSQL integration")
    expect(wizard).to_be_visible()
    expect(wizard_step(page)).to_contain_text("Settings")
    for label in ("Host", "Port", "User", "Password", "Database", "Streams"):
        expect(wizard.get_by_label(label).first).to_be_attached()
    expect(wizard.get_by_label("Port")).to_have_value("5432")
    # Nothing typed: closing asks nothing.
    wizard.get_by_role("button", name="Cancel").click()
    expect(page.locator("#wizard")).to_be_hidden()
    expect(page.locator("#confirm-dialog")).to_be_hidden()


def test_the_wizard_is_usable_with_the_keyboard_only(page: Page, stack: Stack, artifacts) -> None:
    stack.delete_all()
    page.goto(f"{stack.api_url}/")
    expect(page.get_by_role("dialog", name="Sign in")).to_be_visible()
    assert active_element(page)["id"] == "sign-in-name"
    tab_until(page, "el.id === 'use-token'")
    page.keyboard.press("Enter")
    expect(page.locator("#token-input")).to_be_focused()
    page.keyboard.type(stack.token)
    page.keyboard.press("Enter")
    expect(page.locator("body[data-ready=true]")).to_have_count(1)

    tab_until(page, "el.id === 'add-integration'")
    assert active_element(page)["outline"] != "none"  # a visible focus ring
    page.keyboard.press("Enter")
    wizard = page.locator("#wizard")
    expect(wizard).to_be_visible()
    assert active_element(page)["id"] == "step-1-title"

    # Focus is trapped in the dialog, both ways.
    for key in ["Tab"] * 12 + ["Shift+Tab"] * 12:
        page.keyboard.press(key)
        assert active_element(page)["inWizard"], key

    # Step 1: the radio group with the arrow keys.
    tab_until(page, "el.name === 'connector'")
    for _ in range(len(SOURCES)):
        if page.evaluate("document.activeElement.value") == "salesforce":
            page.keyboard.press("Space")
            break
        page.keyboard.press("ArrowDown")
    expect(wizard.get_by_role("radio", name=re.compile("Salesforce"))).to_be_checked()
    tab_until(page, "el.id === 'wizard-next'")
    page.keyboard.press("Enter")
    expect(wizard_step(page)).to_contain_text("Settings")
    assert active_element(page)["id"] == "step-2-title"

    # Step 2: type into each field; Enter in a field goes to the next step.
    for field, text in (
        ("field-name", "kb_crm"),
        ("field-config-client_id", CLIENT_ID),
        ("field-config-client_secret", stack.client_secret),
        ("field-config-refresh_token", stack.refresh_token),
    ):
        tab_until(page, f"el.id === '{field}'")
        page.keyboard.type(text)
    page.keyboard.press("Enter")
    expect(wizard_step(page)).to_contain_text("Test connection")

    # Step 3: the test; the result is announced in a live region.
    expect(wizard.locator("#test-status")).to_have_attribute("aria-live", "polite")
    tab_until(page, "el.id === 'wizard-test'")
    page.keyboard.press("Enter")
    expect(wizard.locator("#test-result .result")).to_have_attribute("data-ok", "true")
    assert active_element(page)["inWizard"]
    tab_until(page, "el.id === 'wizard-next'")
    page.keyboard.press("Enter")
    expect(wizard_step(page)).to_contain_text("Streams")
    assert active_element(page)["id"] == "step-4-title"
    expect(wizard.locator("#discovery-status")).to_contain_text("streams found", timeout=60_000)
    # The list of 300+ streams is one Tab stop; the arrow keys move in it, Space selects.
    tab_until(page, "el.name === 'streams'")
    first = active_element(page)["id"]
    page.keyboard.press("ArrowDown")
    second = active_element(page)
    assert second["name"] == "streams" and second["id"] != first
    count = wizard.locator("#field-streams-count")
    before = count.inner_text()
    total = int(before.split(" of ")[1].split(" ")[0])
    page.keyboard.press("End")  # the last one, rendered once the list has scrolled to it
    expect(wizard.locator(f"#field-streams-s-{total - 1}")).to_be_focused()
    page.keyboard.press("Space")
    expect(count).not_to_have_text(before)
    page.keyboard.press("Space")
    expect(count).to_have_text(before)
    tab_until(page, "el.id === 'wizard-next'")
    page.keyboard.press("Enter")
    expect(wizard_step(page)).to_contain_text("Review and save")
    tab_until(page, "el.id === 'wizard-save'")
    page.keyboard.press("Enter")
    expect(wizard).to_be_hidden()
    expect(page.locator('tr[data-name="kb_crm"]')).to_be_visible()
    assert active_element(page)["id"] == "add-integration"  # focus returns to the opener

    # Escape closes a wizard without edits at once...
    page.keyboard.press("Enter")
    expect(wizard).to_be_visible()
    page.keyboard.press("Escape")
    expect(wizard).to_be_hidden()
    expect(page.locator("#confirm-dialog")).to_be_hidden()

    # ... and asks first when there are unsaved edits.
    page.keyboard.press("Enter")
    expect(wizard).to_be_visible()
    tab_until(page, "el.name === 'connector'")
    page.keyboard.press("Space")
    tab_until(page, "el.id === 'wizard-next'")
    page.keyboard.press("Enter")
    tab_until(page, "el.id === 'field-name'")
    page.keyboard.type("unsaved")
    page.keyboard.press("Escape")
    confirm = page.get_by_role("alertdialog", name="Discard your changes?")
    expect(confirm).to_be_visible()
    assert active_element(page)["text"] == "Keep editing"
    screenshot(page, artifacts, "wizard-escape-confirmation")
    assert_accessible(page, "discard confirmation")
    page.keyboard.press("Enter")  # keep editing
    expect(confirm).to_be_hidden()
    expect(wizard).to_be_visible()
    expect(wizard.get_by_label("Integration name")).to_have_value("unsaved")
    assert active_element(page)["id"] == "field-name"
    page.keyboard.press("Escape")
    expect(confirm).to_be_visible()
    page.keyboard.press("Tab")
    assert active_element(page)["text"] == "Discard changes"
    page.keyboard.press("Enter")
    expect(confirm).to_be_hidden()
    expect(wizard).to_be_hidden()
    assert active_element(page)["id"] == "add-integration"
    assert stack.api("GET", "/api/v1/integrations/unsaved").status_code == 404


def test_checks_as_you_type_and_the_servers_field_errors_at_their_field(
    page: Page, stack: Stack, artifacts
) -> None:
    stack.delete_all()
    stack.create("taken_name")
    sign_in(page, stack.api_url, stack.token)
    page.get_by_role("button", name="Add Salesforce").click()
    wizard = page.get_by_role("dialog", name="Add a Salesforce integration")
    expect(wizard).to_be_visible()

    # Checked as you type, from the schema (type, minimum, format).
    wizard.get_by_text("Advanced options").click()
    lookback = wizard.get_by_label("Lookback window (seconds)")
    lookback_error = wizard.locator("#field-config-lookback_window-error")
    lookback.fill("abc")
    expect(lookback_error).to_have_text("Enter a whole number.")
    expect(lookback).to_have_attribute("aria-invalid", "true")
    lookback.fill("-5")
    expect(lookback_error).to_have_text("Must be at least 0.")
    lookback.fill("")
    expect(lookback_error).to_be_hidden()
    expect(lookback).not_to_have_attribute("aria-invalid", "true")
    quota = wizard.get_by_label("Total API quota (%)")
    quota.fill("150")
    expect(wizard.locator("#field-config-quota_percent_total-error")).to_have_text(
        "Must be at most 100."
    )
    quota.fill("90")
    instance = wizard.get_by_label("Instance URL")
    instance.fill("acme.example")
    expect(wizard.locator("#field-config-instance_url-error")).to_contain_text("web address")
    instance.fill("")
    name = wizard.get_by_label("Integration name")
    name.fill("Not A Name")
    expect(wizard.locator("#field-name-error")).to_contain_text("lower-case letters")

    # What only the server knows: the start date's range, the cron expression.
    fill_connection(wizard, stack, "taken_name")
    wizard.get_by_role("button", name="Next", exact=True).click()
    wizard.get_by_role("button", name="Next: streams").click()
    start = wizard.get_by_label("Start date")
    start.fill("1900-01-01")
    wizard.get_by_text("Custom schedule (cron)").click()
    schedule = wizard.get_by_label("Schedule")
    schedule.fill("61 * * * *")
    wizard.get_by_role("button", name="Next: review").click()
    wizard.get_by_role("button", name="Save", exact=True).click()
    expect(wizard_step(page)).to_contain_text("Streams")
    start_error = wizard.locator("#field-start_date-error")
    expect(start_error).to_have_text("Must be between 1970 and 2200.")
    expect(start).to_have_attribute("aria-invalid", "true")
    assert "field-start_date-error" in (start.get_attribute("aria-describedby") or "")
    expect(wizard.locator("#field-schedule-error")).to_have_text(
        "Not a valid cron expression (e.g. '0 * * * *')."
    )
    expect(schedule).to_be_visible()  # the custom schedule section opened to show it
    expect(wizard.locator("#wizard-form-summary")).to_have_text(
        "The server refused some settings: Start date, Schedule."
    )
    assert active_element(page)["id"] == "field-start_date"
    screenshot(page, artifacts, "wizard-2-server-errors")
    assert_accessible(page, "wizard server errors")

    # Fixed; then the name is taken (409), shown at the name.
    start.fill("2024-01-01")
    schedule.fill("0 6 * * *")
    wizard.get_by_role("button", name="Next: review").click()
    wizard.get_by_role("button", name="Save", exact=True).click()
    expect(wizard.locator("#field-name-error")).to_have_text(
        "An integration named 'taken_name' already exists: choose another name."
    )
    assert active_element(page)["id"] == "field-name"
    name.fill("taken_name_2")
    wizard.get_by_role("button", name="Next", exact=True).click()
    wizard.get_by_role("button", name="Next: streams").click()
    wizard.get_by_role("button", name="Next: review").click()
    wizard.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator("#wizard")).to_be_hidden()
    expect(page.locator('tr[data-name="taken_name_2"]')).to_be_visible()
    saved = stack.api("GET", "/api/v1/integrations/taken_name_2").json()
    assert saved["schedule"] == "0 6 * * *" and saved["start_date"] == "2024-01-01T00:00:00Z"
    assert saved["config"]["quota_percent_total"] == 90


def test_bulk_enable_and_disable(page: Page, stack: Stack) -> None:
    stack.delete_all()
    for name in ("bulk_a", "bulk_b", "bulk_c"):
        stack.create(name)
    sign_in(page, stack.api_url, stack.token)
    toolbar = page.get_by_role("toolbar", name="Actions on the selected integrations")
    expect(toolbar.get_by_role("button", name="Disable")).to_be_disabled()
    page.get_by_label("Select bulk_a").check()
    page.get_by_label("Select bulk_b").check()
    expect(page.locator("#bulk-count")).to_have_text("2 integrations selected")
    assert page.evaluate("document.getElementById('select-all').indeterminate") is True

    toolbar.get_by_role("button", name="Disable").click()
    expect(page.locator("#toasts")).to_contain_text("Disabled bulk_a, bulk_b.")
    for name, enabled in (("bulk_a", "false"), ("bulk_b", "false"), ("bulk_c", "true")):
        expect(page.locator(f'tr[data-name="{name}"]')).to_have_attribute("data-enabled", enabled)
    listed = {i["name"]: i["enabled"] for i in stack.api("GET", "/api/v1/integrations").json()}
    assert listed == {"bulk_a": False, "bulk_b": False, "bulk_c": True}
    row = page.locator('tr[data-name="bulk_a"]')
    expect(row.locator(".badge-off").first).to_have_text("Disabled")
    expect(row.get_by_role("button", name="Sync now bulk_a")).to_be_disabled()

    toolbar.get_by_role("button", name="Enable").click()
    expect(page.locator("#toasts")).to_contain_text("Enabled bulk_a, bulk_b.")
    for name in ("bulk_a", "bulk_b", "bulk_c"):
        expect(page.locator(f'tr[data-name="{name}"]')).to_have_attribute("data-enabled", "true")
    listed = {i["name"]: i["enabled"] for i in stack.api("GET", "/api/v1/integrations").json()}
    assert listed == {"bulk_a": True, "bulk_b": True, "bulk_c": True}

    page.get_by_label("Select all integrations").check()
    expect(page.locator("#bulk-count")).to_have_text("3 integrations selected")
    page.get_by_label("Select all integrations").uncheck()
    expect(page.locator("#bulk-count")).to_have_text("None selected")


def test_a_notification_action_opens_the_wizard_at_its_field(
    page: Page, stack: Stack, artifacts
) -> None:
    stack.delete_all()
    stack.create("notified")
    # Salesforce revoked the refresh token and issued a new one...
    issued = stack.sandbox.credentials
    new_token = f"canary-{uuid.uuid4().hex}"
    stack.sandbox.credentials = dataclasses.replace(issued, refresh_token=new_token)
    try:
        _fix_the_token_from_its_notification(page, stack, artifacts, new_token)
    finally:
        stack.sandbox.credentials = issued


def _fix_the_token_from_its_notification(
    page: Page, stack: Stack, artifacts, new_token: str
) -> None:
    failing = stack.api("POST", "/api/v1/integrations/notified/test").json()
    assert (failing["ok"], failing["reason"]) == (False, "authentication")
    # ... so a sync failed, and the failure sensor recorded it.
    notes = NotificationService.open(stack.database_url, NotificationSettings.from_env(stack.env))
    recorded, _ = notes.record_run_failure("notified", "e2e-run-1", AUTH_FAILURE)
    notification = recorded.notification
    assert notification.settings_url == f"{stack.api_url}/#/integrations/notified"

    sign_in(page, stack.api_url, stack.token)
    bar = page.get_by_role("region", name="Notifications")
    item = bar.locator('li[data-integration="notified"]')
    expect(item).to_contain_text("Sync of 'notified' failed")
    expect(item.get_by_role("link", name="Open run of notified")).to_have_attribute(
        "href", f"{stack.dagster_url}/runs/e2e-run-1"
    )
    expect(page.locator('tr[data-name="notified"] .notes')).to_contain_text("1 open")
    screenshot(page, artifacts, "notification")
    assert_accessible(page, "notification bar")

    item.get_by_role("button", name="Re-enter Refresh Token of notified").click()
    wizard = page.get_by_role("dialog", name="Edit notified")
    expect(wizard).to_be_visible()
    assert active_element(page)["id"] == "field-config-refresh_token"
    expect(wizard.locator('[data-field="config.refresh_token"]')).to_have_class(
        re.compile("attention")
    )
    assert "#/integrations/notified?field=refresh_token" in page.url
    screenshot(page, artifacts, "wizard-from-notification")
    page.keyboard.type(new_token)
    wizard.get_by_role("button", name="Next", exact=True).click()
    wizard.get_by_role("button", name="Test connection").click()
    expect(wizard.locator("#test-result .result")).to_have_attribute("data-ok", "true")
    wizard.get_by_role("button", name="Next: streams").click()
    wizard.get_by_role("button", name="Next: review").click()
    wizard.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator("#wizard")).to_be_hidden()
    assert stack.api("GET", "/api/v1/integrations/notified").json()["version"] == 2
    assert stack.api("POST", "/api/v1/integrations/notified/test").json()["ok"] is True

    # The settings link the notification carries opens the same wizard.
    page.goto(notification.settings_url)
    expect(page.get_by_role("dialog", name="Edit notified")).to_be_visible()
    page.get_by_role("dialog", name="Edit notified").get_by_role("button", name="Cancel").click()
    expect(page.locator("#wizard")).to_be_hidden()

    item.get_by_role("button", name=re.compile("^Dismiss")).click()
    expect(bar).to_be_hidden()
    stored = stack.api("GET", f"/api/v1/notifications/{notification.id}").json()
    assert stored["status"] == "acknowledged"
    assert stored["settings_field"] == "refresh_token"
    assert new_token not in page.content()
    assert not any(new_token in value for value in input_values(page))


def test_an_unreadable_integration_is_repaired_from_its_edit_form(
    page: Page, stack: Stack, artifacts
) -> None:
    stack.delete_all()
    before = stack.create("damaged")
    # The stored config can no longer be decrypted (a lost key, a tampered row).
    engine = sa.create_engine(stack.database_url)
    with engine.begin() as conn:
        conn.execute(
            sa.text("UPDATE integrations SET config_ciphertext = :c WHERE name = 'damaged'"),
            {"c": b"tampered"},
        )
    engine.dispose()

    sign_in(page, stack.api_url, stack.token)
    page.locator('tr[data-name="damaged"]').get_by_role("button", name="Edit damaged").click()
    wizard = page.get_by_role("dialog", name="Edit damaged")
    expect(wizard).to_be_visible()
    expect(wizard.locator("#wizard-form-summary")).to_contain_text("cannot be read")
    expect(wizard.locator("#wizard-form-summary")).to_contain_text("bookmarks are kept")
    screenshot(page, artifacts, "wizard-repair")
    assert_accessible(page, "wizard in repair mode")

    # No secret is set any more: the form asks for them before anything is sent.
    wizard.get_by_label("Client ID").fill(CLIENT_ID)
    wizard.get_by_role("button", name="Next", exact=True).click()
    for key in ("client_secret", "refresh_token"):
        expect(wizard.locator(f'[data-field="config.{key}"]')).to_contain_text("Required.")
    assert stack.api("GET", "/api/v1/integrations/damaged").json()["config_error"]

    wizard.get_by_label("Client Secret").fill(stack.client_secret)
    wizard.get_by_label("Refresh Token").fill(stack.refresh_token)
    wizard.get_by_role("button", name="Next", exact=True).click()
    wizard.get_by_role("button", name="Test connection").click()
    expect(wizard.locator("#test-result .result")).to_have_attribute("data-ok", "true")
    wizard.get_by_role("button", name="Next: streams").click()
    wizard.get_by_role("button", name="Next: review").click()
    wizard.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator("#wizard")).to_be_hidden()

    repaired = stack.api("GET", "/api/v1/integrations/damaged").json()
    assert repaired["id"] == before["id"] and repaired["config_error"] is None
    assert repaired["secrets"] == {"client_secret": "set", "refresh_token": "set"}
    assert stack.api("POST", "/api/v1/integrations/damaged/test").json()["ok"] is True


def test_dark_mode_follows_the_system_and_stays_accessible(
    page: Page, stack: Stack, artifacts
) -> None:
    stack.delete_all()
    stack.create("dark_crm")
    page.emulate_media(color_scheme="dark")
    sign_in(page, stack.api_url, stack.token)
    background = page.evaluate("getComputedStyle(document.querySelector('.panel')).backgroundColor")
    red, green, blue = (int(x) for x in re.findall(r"\d+", background)[:3])
    assert red + green + blue < 150, background  # a dark surface
    screenshot(page, artifacts, "dark-installed")
    assert_accessible(page, "dark mode: installed list and marketplace")
    page.get_by_role("button", name="Add Salesforce").click()
    wizard = page.get_by_role("dialog", name="Add a Salesforce integration")
    expect(wizard).to_be_visible()
    wizard.get_by_role("button", name="Next", exact=True).click()  # every field says Required.
    screenshot(page, artifacts, "dark-wizard-errors")
    assert_accessible(page, "dark mode: wizard with errors")


def test_a_thousand_integrations_render_only_the_rows_in_view(page: Page, stack: Stack) -> None:
    stack.delete_all()
    from integrations_platform.catalog import load_catalog
    from integrations_platform.service import IntegrationService
    from integrations_platform.settings import Settings
    from integrations_platform.store import ConfigStore, KeyRing

    # Stored through the service directly (no reload per integration), as a large
    # deployment would have them.
    settings = Settings.from_env(stack.env)
    store = ConfigStore.open(settings.database_url)
    service = IntegrationService(
        load_catalog(settings.catalog_dir), store, lambda: KeyRing.from_env(stack.env)
    )
    config = {
        "client_id": CLIENT_ID,
        "client_secret": stack.client_secret,
        "refresh_token": stack.refresh_token,
    }
    try:
        for i in range(1000):
            service.add("salesforce", f"many_{i:04d}", config, start_date=START)
    finally:
        store.close()
    try:
        sign_in(page, stack.api_url, stack.token)
        rows = page.locator("#installed-rows tr[data-name]")
        expect(rows.first).to_be_visible()
        assert 0 < rows.count() < 100  # only the rows in view (and a few more)
        assert page.get_by_role("table").first.get_attribute("aria-rowcount") == "1001"
        page.get_by_label("Select all integrations").check()
        expect(page.locator("#bulk-count")).to_have_text("1000 integrations selected")
        # Scrolling brings the last one in.
        page.evaluate("window.scrollTo(0, document.body.scrollHeight)")
        expect(page.locator('tr[data-name="many_0999"]')).to_be_visible()
        expect(page.get_by_label("Select many_0999")).to_be_checked()
    finally:
        stack.delete_all()


def test_the_streams_step_picks_from_hundreds_of_discovered_objects(
    page: Page, stack: Stack, artifacts
) -> None:
    from integrations_platform.sandbox.data import FieldSpec

    stack.delete_all()
    sign_in(page, stack.api_url, stack.token)
    page.get_by_role("button", name="Add Salesforce").click()
    wizard = page.get_by_role("dialog", name="Add a Salesforce integration")
    fill_connection(wizard, stack, "whole_org")
    wizard.get_by_role("button", name="Next", exact=True).click()
    wizard.get_by_role("button", name="Next: streams").click()

    # Discovered with the typed (unsaved) settings: the org's queryable objects.
    status = wizard.locator("#discovery-status")
    expect(status).to_contain_text("streams found", timeout=60_000)
    found = int(re.search(r"(\d+) streams found", status.inner_text()).group(1))  # type: ignore[union-attr]
    assert found >= 300
    count = wizard.locator("#field-streams-count")
    wizard.get_by_role("button", name="Select none of those shown").click()
    expect(count).to_have_text(f"0 of {found} selected; {found} shown.")
    # Only the rows in view are in the page.
    assert wizard.locator(".discovered-row").count() < 40

    search = wizard.get_by_label("Filter streams")
    for name in ("Lead", "Project_01__c", "Account"):
        search.fill(name)
        wizard.get_by_role("checkbox", name=name, exact=True).check()
    expect(count).to_contain_text(f"3 of {found} selected")
    # Account without its phone number; its keys cannot be left out.
    wizard.get_by_role("button", name="Columns of Account").click()
    columns = wizard.get_by_role("group", name="Columns of Account")
    expect(columns.get_by_role("checkbox", name=re.compile("^Id "))).to_be_disabled()
    columns.get_by_role("checkbox", name=re.compile("^Phone ")).uncheck()
    columns.get_by_role("button", name=re.compile("^Done with the columns")).click()
    expect(wizard.get_by_role("button", name="Columns of Account")).to_contain_text("1 left out")
    expect(wizard.get_by_label("Sync mode of Account")).to_have_value("SystemModstamp")
    search.fill("")
    wizard.get_by_label("Frequency").select_option(label="Every 6 hours")
    wizard.get_by_label("Start date").fill(START)
    screenshot(page, artifacts, "wizard-4-discovered-streams")
    assert_accessible(page, "wizard streams step (discovered)")

    wizard.get_by_role("button", name="Next: review").click()
    review = wizard.locator("#wizard-review")
    rows = review_rows(review)
    assert set(rows["Streams"].split(", ")) == {
        "Account (without Phone)",
        "Lead",
        "Project_01__c",
    }
    assert rows["Schedule"] == "Every 6 hours (0 */6 * * *)"
    wizard.get_by_role("button", name="Save", exact=True).click()
    # The server checks the selection against a discovery of its own before saving.
    expect(page.locator("#wizard")).to_be_hidden(timeout=60_000)
    saved = stack.api("GET", "/api/v1/integrations/whole_org").json()
    streams = {s["name"]: s for s in saved["streams"]}
    assert set(streams) == {"Account", "Lead", "Project_01__c"}
    assert streams["Account"]["excluded_columns"] == ["Phone"]
    assert saved["schedule"] == "0 */6 * * *"

    # A field added in the org: editing offers "Refresh schema", which shows it.
    stack.sandbox.add_field("Lead", FieldSpec("Rating__c", "string", "Rating", custom=True))
    page.locator('tr[data-name="whole_org"]').get_by_role("button", name="Edit whole_org").click()
    wizard = page.get_by_role("dialog", name="Edit whole_org")
    wizard.get_by_role("button", name="Next", exact=True).click()
    wizard.get_by_role("button", name="Next: streams").click()
    status = wizard.locator("#discovery-status")
    expect(status).to_contain_text("streams found", timeout=60_000)
    expect(wizard.get_by_role("button", name="Columns of Account")).to_contain_text("1 left out")
    wizard.get_by_label("Filter streams").fill("Lead")
    wizard.get_by_role("button", name="Columns of Lead").click()
    lead_columns = wizard.get_by_role("group", name="Columns of Lead")
    expect(lead_columns.get_by_role("checkbox", name=re.compile("^Rating__c"))).to_have_count(0)
    wizard.get_by_role("button", name="Refresh schema").click()
    expect(lead_columns.get_by_role("checkbox", name=re.compile("^Rating__c"))).to_be_checked(
        timeout=60_000
    )
    screenshot(page, artifacts, "wizard-edit-refreshed-schema")
    assert_accessible(page, "wizard streams step after a refresh")
    wizard.get_by_role("button", name="Cancel").click()


def test_a_held_back_column_is_approved_from_its_notification(
    page: Page, stack: Stack, artifacts
) -> None:
    from integrations_platform.sandbox.data import FieldSpec
    from integrations_platform.store import ConfigStore
    from integrations_platform.store.schema import pending_changes

    stack.delete_all()
    stack.create("guarded", streams=[{"name": "Lead"}], schema_policy="block_all")
    assert stack.api("POST", "/api/v1/integrations/guarded/discover").json()["ok"]
    # A field added in the org; the next look at the source finds it and holds it back.
    stack.sandbox.add_field("Lead", FieldSpec("Score__c", "double", "Score", custom=True))
    assert stack.api("POST", "/api/v1/integrations/guarded/discover").json()["ok"]
    store = ConfigStore.open(stack.database_url)
    try:
        integration = store.get("guarded")
        waiting = pending_changes(store, integration.id)
    finally:
        store.close()
    assert [(c.stream, c.column) for c in waiting] == [("Lead", "Score__c")]
    assert "Score__c" in integration.streams[0].excluded_columns
    notes = NotificationService.open(stack.database_url, NotificationSettings.from_env(stack.env))
    [recorded] = notes.record_schema_changes("guarded", waiting, "block_all", run_id="e2e-run-2")
    assert recorded.notification.settings_url == (
        f"{stack.api_url}/#/integrations/guarded?step=streams&stream=Lead"
    )

    sign_in(page, stack.api_url, stack.token)
    item = page.locator('li[data-integration="guarded"][data-kind="schema_change"]')
    expect(item).to_contain_text("1 new column(s) in Lead of 'guarded': Score__c")
    expect(item).to_have_class(re.compile("severity-info"))
    assert_accessible(page, "an informational schema-change notification")
    item.get_by_role("link", name="Review on the streams step of guarded").click()
    wizard = page.get_by_role("dialog", name="Edit guarded")
    expect(wizard.locator("#step-4-title")).to_be_visible()
    expect(wizard.get_by_label("Filter streams")).to_have_value("Lead")
    expect(wizard.get_by_label("When the source changes")).to_have_value("block_all")
    held = wizard.get_by_role("region", name="Schema changes waiting for approval")
    expect(held).to_contain_text("Lead.Score__c: column added")
    columns = wizard.get_by_role("group", name="Columns of Lead")
    expect(columns.get_by_role("checkbox", name=re.compile("^Score__c"))).not_to_be_checked()
    # Salesforce's extractor cannot hash: no hash toggle is offered.
    expect(columns.get_by_role("checkbox", name=re.compile("^Hash "))).to_have_count(0)
    screenshot(page, artifacts, "wizard-schema-change")
    assert_accessible(page, "wizard streams step with a held-back column")

    held.get_by_role("button", name="Approve the changes of Lead").click()
    expect(held).to_be_hidden()
    expect(columns.get_by_role("checkbox", name=re.compile("^Score__c"))).to_be_checked()
    schema = stack.api("GET", "/api/v1/integrations/guarded/schema").json()
    assert schema["pending"] == []
    assert [c["status"] for c in schema["changes"] if c["column"] == "Score__c"] == ["approved"]
    # The policy is changed and saved from the same step.
    wizard.get_by_label("When the source changes").select_option("allow_all")
    wizard.get_by_role("button", name="Next: review").click()
    rows = review_rows(wizard.locator("#wizard-review"))
    assert rows["When the source changes"] == "Sync new columns and new streams"
    wizard.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator("#wizard")).to_be_hidden(timeout=60_000)
    saved = stack.api("GET", "/api/v1/integrations/guarded").json()
    assert saved["schema_policy"] == "allow_all"
    assert "Score__c" not in saved["streams"][0]["excluded_columns"]
    assert item.count() == 0
