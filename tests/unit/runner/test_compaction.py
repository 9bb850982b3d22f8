"""The embedded destination's compaction: one row per key, nothing lost, atomic."""

import json

from integrations_platform.runner.compaction import compact_jsonl


def _write(path, lines):
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")


def test_the_latest_version_of_each_key_replaces_earlier_ones_in_place(tmp_path):
    path = tmp_path / "Account.jsonl"
    _write(
        path,
        [
            json.dumps({"Id": "a", "v": 1}),
            json.dumps({"Id": "b", "v": 1}),
            json.dumps({"Id": "a", "v": 2}),
            json.dumps({"Id": "c", "v": 1}),
            json.dumps({"Id": "a", "v": 3}),
        ],
    )
    done = compact_jsonl(path, ["Id"])
    assert (done.rows_before, done.rows_after, done.replaced) == (5, 3, 2)
    rows = [json.loads(line) for line in path.read_text().splitlines()]
    assert rows == [{"Id": "a", "v": 3}, {"Id": "b", "v": 1}, {"Id": "c", "v": 1}]
    assert [p.name for p in tmp_path.iterdir()] == ["Account.jsonl"]  # no temporary left


def test_compound_keys_and_keyless_streams(tmp_path):
    path = tmp_path / "lines.jsonl"
    _write(
        path,
        [
            json.dumps({"order": 1, "line": 1, "q": 1}),
            json.dumps({"order": 1, "line": 2, "q": 1}),
            json.dumps({"order": 1, "line": 1, "q": 5}),
        ],
    )
    assert compact_jsonl(path, ["order", "line"]).rows_after == 2
    # Without a key only identical records are duplicates.
    keyless = tmp_path / "events.jsonl"
    _write(keyless, ['{"e": 1}', '{"e": 2}', '{"e": 1}', '{"e": 1, "x": 0}'])
    assert compact_jsonl(keyless, ()).rows_after == 3


def test_lines_that_cannot_be_keyed_are_kept(tmp_path):
    path = tmp_path / "odd.jsonl"
    lines = ['{"Id": 1}', "not json", '{"Name": "no id"}', "[1, 2]", '{"Id": 1}', "not json"]
    _write(path, lines)
    done = compact_jsonl(path, ["Id"])
    assert done.rows_after == 5
    assert path.read_text().splitlines() == [*lines[:4], "not json"]


def test_a_missing_file_or_one_without_duplicates_is_left_alone(tmp_path):
    assert compact_jsonl(tmp_path / "none.jsonl", ["Id"]).rows_after == 0
    path = tmp_path / "Account.jsonl"
    _write(path, ['{"Id": 1}', '{"Id": 2}'])
    before = path.stat().st_mtime_ns
    assert compact_jsonl(path, ["Id"]).replaced == 0
    assert path.stat().st_mtime_ns == before
