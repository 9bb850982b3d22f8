"""A Singer mapper: keep only the records whose replication key falls in one of the
configured time windows ``[start, end)``, and report how many each window received.

Config (a JSON file given with ``--config``, as Meltano does for mappers)::

    {"windows": [["2024-01-02", "2024-01-02T00:00:00Z", "2024-01-03T00:00:00Z"], ...],
     "streams": {"Account": "SystemModstamp", ...}}

Each window is ``[label, start, end]``. Records of streams not listed pass through
unchanged; so do SCHEMA, STATE and every other message. At the end, one line per stream
and window goes to stderr::

    METRIC: {"type": "counter", "metric": "record_count", "value": 12,
             "tags": {"stream": "Account", "window": "2024-01-02"}}
"""

import argparse
import bisect
import json
import sys
from datetime import UTC, datetime


def parse_timestamp(value: str) -> datetime:
    """ISO 8601 as taps write it: ``Z``, ``+00:00`` or ``+0000``; naive means UTC."""
    text = value.strip().replace("Z", "+00:00").replace("z", "+00:00")
    if len(text) > 5 and text[-5] in "+-" and text[-3] != ":" and "T" in text:
        text = f"{text[:-2]}:{text[-2:]}"  # +0000 -> +00:00
    parsed = datetime.fromisoformat(text)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--config", required=True)
    args = parser.parse_args(argv)
    with open(args.config, encoding="utf-8") as handle:
        config = json.load(handle)
    windows = sorted(
        (parse_timestamp(start), parse_timestamp(end), label)
        for label, start, end in config.get("windows") or []
    )
    if not windows:
        print("singer-window-filter: no windows configured", file=sys.stderr)
        return 2
    starts = [w[0] for w in windows]
    keys: dict[str, str] = config.get("streams") or {}
    counts: dict[tuple[str, str], int] = {(s, w[2]): 0 for s in keys for w in windows}
    out = sys.stdout
    for line in sys.stdin:
        if not line.strip():
            continue
        message = json.loads(line)
        if message.get("type") == "RECORD" and message.get("stream") in keys:
            stream = message["stream"]
            value = (message.get("record") or {}).get(keys[stream])
            if value is None:
                continue
            moment = parse_timestamp(str(value))
            index = bisect.bisect_right(starts, moment) - 1
            if index < 0 or moment >= windows[index][1]:
                continue
            counts[(stream, windows[index][2])] += 1
        out.write(line if line.endswith("\n") else line + "\n")
    out.flush()
    for (stream, label), value in sorted(counts.items()):
        metric = {
            "type": "counter",
            "metric": "record_count",
            "value": value,
            "tags": {"stream": stream, "window": label},
        }
        print(f"INFO METRIC: {json.dumps(metric)}", file=sys.stderr, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
