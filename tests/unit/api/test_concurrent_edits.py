"""Two API servers over one PostgreSQL config store: concurrent edits never lose one."""

from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.unit.api.test_api import BASE, SF_CONFIG, create

ROUNDS = 8


@pytest.mark.parametrize("platform", ["postgres"], indirect=True)
def test_two_servers_editing_one_integration_never_lose_an_update(make_client, platform):
    first, second = make_client(), make_client()  # two apps: nothing shared but the database
    create(first, "crm")
    for round_ in range(ROUNDS):
        etags = [c.get(f"{BASE}/crm").headers["ETag"] for c in (first, second)]
        assert etags[0] == etags[1]

        labels = [(first, f"first-{round_}", etags[0]), (second, f"second-{round_}", etags[1])]
        with ThreadPoolExecutor(max_workers=2) as pool:
            results = dict(pool.map(_edit, labels))
        statuses = sorted(r.status_code for r in results.values())
        assert statuses == [200, 409], {k: r.text for k, r in results.items()}
        winner = next(label for label, r in results.items() if r.status_code == 200)
        loser = results[next(label for label, r in results.items() if r.status_code == 409)]
        assert loser.json()["error"] == "ConcurrentUpdateError"

        stored = platform.service.get("crm")
        assert stored.version == round_ + 2
        assert stored.description == winner
        assert platform.service.decrypted_config(stored) == {**SF_CONFIG, "client_id": winner}


def _edit(args):
    client, label, etag = args
    return label, client.patch(
        f"{BASE}/crm",
        json={"description": label, "config": {"client_id": label}},
        headers={"If-Match": etag},
    )
