"""What the browser tests share: signing in, screenshots, axe, and recording what the
page received (to look for secrets in it)."""

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from playwright.sync_api import Page, Response, expect

from integrations_platform.sandbox import SalesforceSandbox
from tests.conftest import START

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
BLOCKING_IMPACTS = ("serious", "critical")
CLIENT_ID = "sandbox-client"


@dataclass
class Stack:
    """The platform the page talks to: API, Dagster, sandbox, and the secrets in play."""

    home: Path
    api_url: str
    dagster_url: str
    token: str
    sandbox: SalesforceSandbox
    env: dict[str, str]
    logs: Path

    @property
    def client_secret(self) -> str:
        return self.sandbox.credentials.client_secret

    @property
    def refresh_token(self) -> str:
        return self.sandbox.credentials.refresh_token

    @property
    def database_url(self) -> str:
        return f"sqlite:///{self.home / 'integrations.db'}"

    def api(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """Call the API directly (set-up and checks beside the browser)."""
        return httpx.request(
            method,
            f"{self.api_url}{path}",
            headers={"Authorization": f"Bearer {self.token}"},
            timeout=60,
            **kwargs,
        )

    def create(self, name: str, **overrides: Any) -> dict[str, Any]:
        """An integration on the sandbox, created through the API."""
        body = {
            "name": name,
            "connector": "salesforce",
            "config": {
                "client_id": CLIENT_ID,
                "client_secret": self.client_secret,
                "refresh_token": self.refresh_token,
            },
            "streams": [{"name": "Account"}],
            "start_date": START,
            **overrides,
        }
        response = self.api("POST", "/api/v1/integrations", json=body)
        assert response.status_code == 201, response.text
        return response.json()["integration"]

    def delete_all(self) -> None:
        """Remove every integration (tests start from an empty list)."""
        names = [i["name"] for i in self.api("GET", "/api/v1/integrations").json()]
        if names:
            response = self.api(
                "POST", "/api/v1/integrations/bulk", json={"action": "delete", "names": names}
            )
            assert response.status_code == 200, response.text


def sign_in(page: Page, url: str, token: str) -> None:
    """Open the page and sign in with an API token (the sign-in dialog's other way)."""
    page.goto(f"{url}/")
    dialog = page.get_by_role("dialog", name="Sign in")
    expect(dialog).to_be_visible()
    dialog.get_by_role("button", name="Use an API token instead").click()
    dialog.get_by_label("API token").fill(token)
    dialog.get_by_role("button", name="Connect").click()
    expect(dialog).to_be_hidden()
    expect(page.locator("body[data-ready=true]")).to_have_count(1)


def sign_in_with_password(page: Page, url: str, name: str, password: str) -> None:
    """Open the page and sign in with a user's name and password."""
    page.goto(f"{url}/")
    dialog = page.get_by_role("dialog", name="Sign in")
    expect(dialog).to_be_visible()
    dialog.get_by_label("Name").fill(name)
    dialog.get_by_label("Password").fill(password)
    dialog.get_by_role("button", name="Sign in").click()
    expect(dialog).to_be_hidden()
    expect(page.locator("body[data-ready=true]")).to_have_count(1)


def screenshot(page: Page, folder: Path, name: str) -> Path:
    """Save the viewport as ``folder/name.png`` and check it is a real, non-empty PNG."""
    path = folder / f"{name}.png"
    page.screenshot(path=str(path), full_page=False)
    data = path.read_bytes()
    assert data.startswith(PNG_MAGIC) and len(data) > 1000, f"{path} is not a real screenshot"
    return path


def accessibility_violations(page: Page, label: str, context: str | None = None) -> list[str]:
    """Run axe-core on the page (or the ``context`` selector); print every violation and
    return the serious and critical ones."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page, context=context)
    violations = results.response["violations"]
    blocking = []
    for violation in violations:
        targets = [", ".join(node["target"]) for node in violation["nodes"]]
        line = (
            f"[axe {label}] {violation['impact']}: {violation['id']} — {violation['help']} "
            f"at {targets}"
        )
        print(line)
        if violation["impact"] in BLOCKING_IMPACTS:
            blocking.append(line)
    print(f"[axe {label}] {len(violations)} violation(s), {len(blocking)} serious or critical")
    return blocking


@dataclass
class ResponseRecorder:
    """Every response the page received, with its body read at once."""

    bodies: list[tuple[str, bytes]] = field(default_factory=list)
    unreadable: list[str] = field(default_factory=list)

    def attach(self, page: Page) -> "ResponseRecorder":
        page.on("response", self._record)
        return self

    def _record(self, response: Response) -> None:
        headers = json.dumps(response.headers).encode()
        if 300 <= response.status < 400:
            self.bodies.append((response.url, headers))
            return
        try:
            body = response.body()
        except Exception as exc:  # noqa: BLE001 - a body the browser dropped is a gap
            self.unreadable.append(f"{response.url}: {exc}")
            body = b""
        self.bodies.append((response.url, headers + b"\n" + body))

    def containing(self, needle: str) -> list[str]:
        data = needle.encode()
        return [url for url, body in self.bodies if data in body]


def storage_dump(page: Page) -> str:
    """localStorage, sessionStorage and cookies of the page, as one text."""
    stores: Any = page.evaluate(
        """() => {
            const dump = (s) => Object.fromEntries(
                Array.from({length: s.length}, (_, i) => [s.key(i), s.getItem(s.key(i))]));
            return {local: dump(localStorage), session: dump(sessionStorage),
                    cookie: document.cookie};
        }"""
    )
    return json.dumps({"page": stores, "cookies": page.context.cookies()})


def input_values(page: Page) -> list[str]:
    """The current value of every input and textarea (values typed are not in the HTML)."""
    return page.evaluate(
        "() => [...document.querySelectorAll('input, textarea')].map((node) => node.value)"
    )


def tab_until(page: Page, predicate: str, limit: int = 60, backwards: bool = False) -> None:
    """Press Tab (Shift+Tab) until the JavaScript ``predicate(document.activeElement)`` holds."""
    key = "Shift+Tab" if backwards else "Tab"
    for _ in range(limit):
        page.keyboard.press(key)
        if page.evaluate(f"(el => {predicate})(document.activeElement)"):
            return
    raise AssertionError(f"Tab never reached an element where {predicate}")


def active_element(page: Page) -> dict[str, Any]:
    """What has the focus: tag, id, name, text, and whether it is inside the wizard."""
    return page.evaluate(
        """() => { const el = document.activeElement; return {
            tag: el.tagName, id: el.id, name: el.getAttribute('name'),
            text: (el.textContent || '').trim(), inWizard: !!el.closest('#wizard'),
            outline: getComputedStyle(el).outlineStyle }; }"""
    )
