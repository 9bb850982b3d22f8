"""`integrations users`, `tokens` and `audit`, and the CLI's own changes in the audit trail,
through the real command over a real SQLite store."""

# ruff: noqa: F811  (the `cli` and `added` fixtures come from test_cli)

import json

import sqlalchemy as sa

from integrations_platform.launcher import first_admin_link
from integrations_platform.settings import Settings
from tests.unit.test_cli import SECRET, Cli, added, cli  # noqa: F401  (fixtures)

PASSWORD = "a passphrase of several words"


def audit(cli: Cli, *args: str) -> list[dict[str, object]]:
    return json.loads(cli.ok("audit", "--json", *args).stdout)


def database(cli: Cli) -> bytes:
    return (cli.home / "integrations.db").read_bytes()


def test_users_add_list_set_role_remove(cli: Cli) -> None:
    added_with_link = cli.ok("users", "add", "alice", "--role", "editor").stdout
    link = added_with_link.strip().splitlines()[-1]
    assert link.startswith("http://127.0.0.1:8000/#sign-in=")
    cli.ok("users", "add", "bob", "--role", "viewer", "--password-stdin", input=PASSWORD + "\n")
    users = {u["name"]: u for u in json.loads(cli.ok("users", "list", "--json").stdout)}
    assert {n: (u["role"], u["has_password"]) for n, u in users.items()} == {
        "alice": ("editor", False),
        "bob": ("viewer", True),
    }
    cli.ok("users", "set-role", "bob", "--role", "admin")
    cli.ok("users", "remove", "alice")
    assert [u["name"] for u in json.loads(cli.ok("users", "list", "--json").stdout)] == ["bob"]
    assert "last admin" in cli.fail("users", "remove", "bob")
    assert "No user called 'carol'" in cli.fail("users", "set-role", "carol", "--role", "viewer")
    short = cli.fail("users", "add", "dan", "--role", "viewer", "--password-stdin", input="x\n")
    assert "12 to 1024 characters" in short
    # The password and the link are in no byte of the store.
    stored = database(cli)
    assert PASSWORD.encode() not in stored
    assert link.split("=", 1)[1].encode() not in stored


def test_tokens_create_prints_the_token_alone_on_the_last_line_once(cli: Cli) -> None:
    cli.ok("users", "add", "ci-bot", "--role", "editor")
    out = cli.ok(
        "tokens", "create", "--user", "ci-bot", "--name", "deploys", "--expires", "2030-01-31"
    ).stdout
    token = out.splitlines()[-1]
    assert token.startswith("ipt_") and " " not in token and len(token) > 40
    listed = json.loads(cli.ok("tokens", "list", "--json").stdout)
    assert [(t["user"], t["name"], t["expires_at"][:10]) for t in listed] == [
        ("ci-bot", "deploys", "2030-01-31")
    ]
    assert token not in cli.ok("tokens", "list").stdout
    assert token.encode() not in database(cli)
    cli.ok("tokens", "revoke", listed[0]["id"])
    assert json.loads(cli.ok("tokens", "list", "--json").stdout)[0]["revoked_at"]
    assert "not a date" in cli.fail("tokens", "create", "--user", "ci-bot", "--expires", "soon")
    assert "in the past" in cli.fail(
        "tokens", "create", "--user", "ci-bot", "--expires", "2001-01-01"
    )


def test_cli_changes_are_audited_with_field_names_and_results(added: Cli) -> None:
    cli = added
    cli.ok("update", "acme", "--schedule", "0 3 * * *", "--start-date", "2026-01-01")
    cli.fail("remove", "ghost")
    cli.ok("disable", "acme")
    events = audit(cli, "--integration", "acme")
    assert [(e["action"], e["result"], e["source"]) for e in events] == [
        ("disable", "ok", "cli"),
        ("update", "ok", "cli"),
        ("create", "ok", "cli"),
    ]
    assert events[1]["fields"] == ["schedule", "start_date"]
    assert all(str(e["actor"]).startswith("cli:") and e["role"] == "admin" for e in events)
    [failed] = audit(cli, "--integration", "ghost")
    assert (failed["action"], failed["result"]) == ("delete", "failed")
    assert audit(cli, "--action", "update", "--since", "2000-01-01")[0]["integration"] == "acme"
    assert audit(cli, "--actor", "nobody") == []
    assert "not a date" in cli.fail("audit", "--since", "yesterday")
    # The trail never holds a value: the config's secret is nowhere in it.
    assert SECRET not in cli.ok("audit", "--json", "--limit", "1000").stdout


def test_the_trail_refuses_updates_and_deletes(added: Cli) -> None:
    engine = sa.create_engine(f"sqlite:///{added.home / 'integrations.db'}")
    try:
        for statement in ("UPDATE audit_events SET result = 'ok'", "DELETE FROM audit_events"):
            with engine.begin() as connection:
                try:
                    connection.execute(sa.text(statement))
                except sa.exc.DatabaseError as exc:
                    assert "append-only" in str(exc)
                else:
                    raise AssertionError(f"{statement} was allowed")
    finally:
        engine.dispose()


def test_up_creates_the_first_admin_and_prints_a_fresh_one_time_link(cli: Cli) -> None:
    settings = Settings.from_env({"INTEGRATIONS_HOME": str(cli.home)})
    name, link = first_admin_link(settings, "http://127.0.0.1:8000")
    again, other = first_admin_link(settings, "http://127.0.0.1:8000")
    assert name == again == "admin" and link != other
    assert link.startswith("http://127.0.0.1:8000/#sign-in=")
    users = json.loads(cli.ok("users", "list", "--json").stdout)
    assert [(u["name"], u["role"], u["has_password"]) for u in users] == [("admin", "admin", False)]
