"""People on the page, in a real headless Chromium against the real API and config store:
the first admin signs in with a one-time link and adds an editor and a viewer; the editor
creates a Salesforce integration through the wizard; the viewer finds no way to change
anything (and the API refuses a change made from their session anyway); the admin's
audit view shows who did what."""

import re
import uuid
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from integrations_platform.people import Accounts
from integrations_platform.settings import PROJECT_ROOT
from integrations_platform.store import ConfigStore
from tests.conftest import START
from tests.e2e.support import (
    CLIENT_ID,
    Stack,
    screenshot,
    sign_in_with_password,
)

pytestmark = pytest.mark.usefixtures("meltano_plugins")

EDITOR, VIEWER, INTEGRATION = "erin", "victor", "crm_by_erin"
# What would change something: none of it may be offered to a viewer (closing a toast,
# "Dismiss message", changes nothing).
CHANGING = re.compile(
    r"^(Add|Sync|Edit|Delete|Enable|Disable|Dismiss(?! message)|Remove|Change|Approve|Save)\b"
)


def sign_in_link(stack: Stack, name: str | None = None) -> tuple[str, str]:
    """The first admin (created if nobody exists) or ``name``, and a one-time link's
    address for them, made against the stack's config store."""
    store = ConfigStore.open(stack.database_url)
    try:
        accounts = Accounts(store)
        who = name or accounts.ensure_first_admin()
        return who, f"{stack.api_url}/#sign-in={accounts.create_link(who)}"
    finally:
        store.close()


def follow_link(page: Page, address: str) -> None:
    """Open a one-time sign-in link in a fresh document, as a mail client would."""
    page.goto("about:blank")
    page.goto(address)
    expect(page.locator("body[data-ready=true]")).to_have_count(1)
    expect(page.get_by_role("dialog", name="Sign in")).to_have_count(0)
    # The token leaves the address (and so the history) at once.
    assert "sign-in=" not in page.url


def expect_signed_in(page: Page, name: str, role: str) -> None:
    expect(page.locator("#signed-in-name")).to_have_text(name)
    expect(page.locator("#signed-in")).to_have_attribute("data-role", role)
    expect(page.locator("#signed-in")).to_have_attribute("data-auth", "session")


def sign_out(page: Page) -> None:
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("dialog", name="Sign in")).to_be_visible()
    expect(page.locator("#signed-in")).to_have_count(0)


def create_with_the_wizard(page: Page, stack: Stack, name: str) -> None:
    """Add a Salesforce integration on the sandbox: settings, a passing test, the
    discovered streams' defaults, review and save."""
    page.get_by_role("button", name="Add integration").click()
    wizard = page.get_by_role("dialog", name="Add an integration")
    wizard.get_by_role("radio", name=re.compile("Salesforce")).check()
    wizard.get_by_role("button", name="Next", exact=True).click()
    wizard = page.get_by_role("dialog", name="Add a Salesforce integration")
    wizard.get_by_label("Integration name").fill(name)
    wizard.get_by_label("Client ID").fill(CLIENT_ID)
    wizard.get_by_label("Client Secret").fill(stack.client_secret)
    wizard.get_by_label("Refresh Token").fill(stack.refresh_token)
    wizard.get_by_role("button", name="Next", exact=True).click()
    wizard.get_by_role("button", name="Test connection").click()
    expect(wizard.locator("#test-result .result")).to_have_attribute("data-ok", "true")
    wizard.get_by_role("button", name="Next: streams").click()
    expect(wizard.locator("#discovery-status")).to_contain_text("streams found", timeout=60_000)
    wizard.get_by_label("Start date").fill(START)
    wizard.get_by_role("button", name="Next: review").click()
    expect(wizard.locator("#wizard-review")).to_contain_text("Client Secret")
    wizard.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator("#wizard")).to_be_hidden(timeout=60_000)
    expect(page.locator("#toasts")).to_contain_text(f"Saved '{name}'.")
    expect(page.locator(f'tr[data-name="{name}"]')).to_contain_text("Enabled")


def test_admin_editor_and_viewer_on_the_page(page: Page, stack: Stack, artifacts: Path) -> None:
    stack.delete_all()
    editor_password = f"e2e-{uuid.uuid4().hex}"

    # The first admin opens the one-time link `integrations up` would print.
    admin, link = sign_in_link(stack)
    follow_link(page, link)
    expect_signed_in(page, admin, "admin")
    expect(page.locator("#signed-in-role")).to_have_text("Admin")

    # Users: an editor with a password, a viewer with a one-time link.
    page.get_by_role("link", name="Users").click()
    expect(page.get_by_role("heading", name="Users")).to_be_focused()
    form = page.locator("#add-user-form")
    expect(form.get_by_role("heading", name="Add user")).to_be_visible()
    form.get_by_label("Name").fill(EDITOR)
    form.get_by_label("Role", exact=True).select_option("editor")
    form.get_by_label("Password (optional)").fill(editor_password)
    form.get_by_role("button", name="Add user").click()
    expect(page.locator(f'#users-table tr[data-user="{EDITOR}"]')).to_have_attribute(
        "data-role", "editor"
    )
    expect(page.locator(f'#users-table tr[data-user="{EDITOR}"]')).to_contain_text("Set")
    expect(page.get_by_label(f"Sign-in link for {EDITOR}")).to_have_count(0)

    form.get_by_label("Name").fill(VIEWER)
    form.get_by_label("Role", exact=True).select_option("viewer")
    form.get_by_role("button", name="Add user").click()
    viewer_link_field = page.get_by_label(f"Sign-in link for {VIEWER}")
    expect(viewer_link_field).to_have_value(re.compile(re.escape(f"{stack.api_url}/#sign-in=")))
    viewer_link = viewer_link_field.input_value()
    viewer_row = page.locator(f'#users-table tr[data-user="{VIEWER}"]')
    expect(viewer_row).to_have_attribute("data-role", "viewer")
    expect(viewer_row).to_contain_text("Not set")
    expect(page.get_by_label(f"Role of {EDITOR}")).to_have_value("editor")
    screenshot(page, artifacts, "people-users")
    page.get_by_role("button", name="Done").click()
    expect(viewer_link_field).to_have_count(0)
    sign_out(page)

    # The editor signs in with name and password and creates an integration.
    sign_in_with_password(page, stack.api_url, EDITOR, editor_password)
    expect_signed_in(page, EDITOR, "editor")
    expect(page.get_by_role("link", name="Users")).to_have_count(0)
    expect(page.get_by_role("link", name="Audit")).to_have_count(0)
    create_with_the_wizard(page, stack, INTEGRATION)
    screenshot(page, artifacts, "people-editor-created")
    sign_out(page)

    # The viewer, from the link the admin was shown: everything to see, nothing to change.
    follow_link(page, viewer_link)
    expect_signed_in(page, VIEWER, "viewer")
    row = page.locator(f'tr[data-name="{INTEGRATION}"]')
    expect(row).to_contain_text("Enabled")
    expect(row.get_by_role("button", name=f"Runs of {INTEGRATION}")).to_be_visible()
    sources = len(list((PROJECT_ROOT / "connector_catalog").glob("*.yaml")))
    expect(page.locator("#connector-grid .card")).to_have_count(sources)
    buttons = [
        (b.get_attribute("aria-label") or b.inner_text()).strip()
        for b in page.get_by_role("button").all()
    ]
    assert "Sign out" in buttons
    assert [b for b in buttons if CHANGING.match(b)] == [], buttons
    expect(page.get_by_role("button", name=CHANGING)).to_have_count(0)
    expect(page.get_by_role("checkbox")).to_have_count(0)
    expect(page.get_by_role("switch")).to_have_count(0)
    expect(page.locator("#bulk-bar")).to_have_count(0)
    expect(page.get_by_role("link", name="Users")).to_have_count(0)
    expect(page.get_by_role("link", name="Audit")).to_have_count(0)
    screenshot(page, artifacts, "people-viewer")
    # A change asked for from the viewer's own session, with its CSRF token, is refused.
    answer = page.evaluate(
        """async (name) => {
            const me = await (await fetch('/api/v1/me', {credentials: 'same-origin'})).json();
            const response = await fetch(`/api/v1/integrations/${name}/disable`, {
                method: 'POST', credentials: 'same-origin',
                headers: {'X-CSRF-Token': me.csrf_token, 'Content-Type': 'application/json'},
                body: '{}'});
            return {me, status: response.status, body: await response.json()};
        }""",
        INTEGRATION,
    )
    assert answer["me"]["name"] == VIEWER and answer["me"]["auth"] == "session", answer
    assert answer["me"]["csrf_token"], answer
    assert answer["status"] == 403, answer
    assert answer["body"]["error"] != "CsrfError", answer  # refused for the role
    assert stack.api("GET", f"/api/v1/integrations/{INTEGRATION}").json()["enabled"] is True
    # Even the admins' views are refused by address.
    page.goto(f"{stack.api_url}/#/users")
    expect(page.locator("#toasts")).to_contain_text("Only an admin can open the users view.")
    expect(page.get_by_role("heading", name="Users")).to_have_count(0)
    sign_out(page)

    # The admin (a new one-time link) reads the audit trail.
    _, link = sign_in_link(stack, admin)
    follow_link(page, link)
    expect_signed_in(page, admin, "admin")
    page.get_by_role("link", name="Audit").click()
    expect(page.get_by_role("heading", name="Audit trail")).to_be_visible()
    events = page.locator("#audit-table tbody tr")
    created = page.locator('#audit-table tbody tr[data-action="create"]')
    expect(created).to_have_count(1)
    expect(created).to_have_attribute("data-result", "ok")
    cells = created.locator("td")
    expect(created.locator("th")).to_have_text(EDITOR)
    expect(cells.nth(1)).to_have_text("Editor")
    expect(cells.nth(2)).to_contain_text("Page")
    expect(cells.nth(4)).to_have_text(INTEGRATION)
    expect(cells.nth(5)).to_contain_text("config.client_secret")
    expect(cells.nth(6)).to_contain_text("OK")
    signins = page.locator('#audit-table tbody tr[data-action="sign-in"][data-result="ok"]')
    expect(signins.locator("th")).to_have_text([admin, VIEWER, EDITOR, admin])
    # The viewer's refused change is there too, as denied.
    denied = page.locator('#audit-table tbody tr[data-action="disable"]')
    expect(denied).to_have_attribute("data-result", "denied")
    expect(denied.locator("th")).to_have_text(VIEWER)
    # Whoever added the users, from the page.
    added = page.locator('#audit-table tbody tr[data-action="user-add"][data-result="ok"]')
    expect(added.locator("th")).to_have_text([admin, admin])
    audit_text = page.locator("#audit-table").inner_text()
    for secret in (stack.client_secret, stack.refresh_token, editor_password):
        assert secret not in audit_text
    screenshot(page, artifacts, "people-audit")

    # The filters narrow it to the integration, then to the actor.
    page.get_by_label("Integration", exact=True).fill(INTEGRATION)
    expect(events).to_have_count(2)  # the editor's create, the viewer's refused disable
    assert [
        (r.get_attribute("data-action"), r.get_attribute("data-result")) for r in events.all()
    ] == [
        ("disable", "denied"),
        ("create", "ok"),
    ]
    page.get_by_label("Integration", exact=True).fill("")
    page.get_by_label("Actor", exact=True).fill(EDITOR)
    by_others = events.filter(has_not=page.locator("th", has_text=re.compile(f"^{EDITOR}$")))
    expect(by_others).to_have_count(0)
    expect(events.locator("th")).not_to_have_count(0)
    actions = [row.get_attribute("data-action") for row in events.all()]
    assert actions == ["sign-out", "create", "discover", "test", "sign-in"], actions
    screenshot(page, artifacts, "people-audit-by-editor")
