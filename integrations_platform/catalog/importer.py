"""``integrations catalog import``: a catalog file from a plugin's own description.

The plugin is installed from PyPI into a scratch virtualenv (with uv, as Meltano installs
plugins), asked for ``--about --format=json`` (every Singer SDK plugin answers it), and
its settings become the catalog's: type (objects and lists of objects included, with
their JSON Schema), required, default, description, choices, and secret. A setting whose
name or description looks like a credential is secret even when the plugin does not say
so (:mod:`.sensitive`). Re-importing keeps what people wrote by hand — label, logo,
category, description, help, order, advanced, and every connector-level field the plugin
does not describe — and reports what changed.
"""

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml

from integrations_platform.catalog.loader import DESTINATIONS_FOLDER, connector_from_data
from integrations_platform.catalog.sensitive import looks_secret
from integrations_platform.errors import CatalogError

INSTALL_TIMEOUT_S = 600
ABOUT_TIMEOUT_S = 120
GENERIC_LOGO = "logos/community.svg"
PKG_RESOURCES = "setuptools==80.9.0"
# Settings the platform sets itself for every SDK plugin (see runner/meltano_project.py):
# they never belong in a connector's form.
PLATFORM_SETTINGS = frozenset(
    {
        "stream_maps",
        "stream_map_config",
        "faker_config",
        "flattening_enabled",
        "flattening_max_depth",
        "batch_config",
    }
)
START_DATE = "start_date"
# A target's settings the platform sets per integration (so that two integrations never
# write into each other), with their templates.
PER_INTEGRATION = {"default_target_schema": "{integration}"}
HAND_WRITTEN_SETTING_KEYS = ("label", "help", "order", "advanced")
_ANNOTATIONS = ("title", "description", "default", "examples", "secret", "writeOnly")


@dataclass
class ImportResult:
    """What an import wrote and found."""

    path: Path
    connector_id: str
    version: str
    created: bool
    changes: list[str] = field(default_factory=list)
    made_secret: list[str] = field(default_factory=list)
    settings: int = 0
    plugin: str = ""  # the Meltano plugin's name (what `meltano install` is given)


def _package(pip_spec: str) -> tuple[str, str]:
    """(name, version) of a pinned spec, or a CatalogError saying how to pin it."""
    match = re.fullmatch(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)(\[[^\]]*\])?==([^\s;]+)\s*", pip_spec)
    if not match:
        raise CatalogError(
            f"'{pip_spec}' is not a pinned package",
            "Give the PyPI package and its exact version, e.g. tap-rest-api-msdk==1.4.2.",
        )
    return match.group(1), match.group(3)


def _tail(text: str, lines: int = 6) -> str:
    kept = [line for line in text.strip().splitlines() if line.strip()][-lines:]
    return " | ".join(kept)[:800]


def _uv() -> str:
    found = shutil.which("uv", path=str(Path(sys.executable).parent)) or shutil.which("uv")
    if not found:
        raise CatalogError(
            "uv is not installed", "Install the platform's lock (it includes uv), then retry."
        )
    return found


def install_scratch(pip_spec: str, venv: Path, *, create: bool = True) -> None:
    """Install ``pip_spec`` (one or more requirements) into the virtualenv at ``venv``,
    created first unless ``create`` is false."""
    env = {**os.environ, "UV_PYTHON_DOWNLOADS": "never"}
    python = str(venv / "bin" / "python")
    steps = [[_uv(), "pip", "install", "--quiet", "--python", python, *pip_spec.split()]]
    if create:
        steps.insert(0, [_uv(), "venv", "--quiet", "--seed", "--python", sys.executable, str(venv)])
    for command in steps:
        try:
            done = subprocess.run(
                command, env=env, capture_output=True, text=True, timeout=INSTALL_TIMEOUT_S
            )
        except subprocess.TimeoutExpired:
            raise CatalogError(
                f"Installing {pip_spec} took longer than {INSTALL_TIMEOUT_S} s",
                "Check the network to the package index, then retry.",
            ) from None
        if done.returncode != 0:
            raise CatalogError(
                f"The package {pip_spec} could not be installed: {_tail(done.stderr)}",
                "Check its name and version on PyPI, and that it supports this Python "
                f"({sys.version_info.major}.{sys.version_info.minor}).",
            )


def _scripts(venv: Path, package: str) -> list[str]:
    code = (
        "import importlib.metadata as m, json, sys; "
        "d = m.distribution(sys.argv[1]); "
        "print(json.dumps(sorted(e.name for e in d.entry_points if e.group == 'console_scripts')))"
    )
    done = subprocess.run(
        [str(venv / "bin" / "python"), "-c", code, package],
        capture_output=True,
        text=True,
        timeout=60,
    )
    if done.returncode != 0:
        return []
    names: list[str] = json.loads(done.stdout or "[]")
    return names


def choose_executable(scripts: list[str], package: str, kind: str, given: str | None) -> str:
    """The plugin's command: ``given``, else its one tap-/target- script."""
    if given:
        if given not in scripts:
            raise CatalogError(
                f"The package {package} has no command '{given}'",
                f"Its commands: {', '.join(scripts) or 'none'}.",
            )
        return given
    prefix = "tap-" if kind == "source" else "target-"
    matching = [s for s in scripts if s.startswith(prefix)]
    if len(matching) == 1:
        return matching[0]
    raise CatalogError(
        f"Cannot tell which command of {package} is the plugin "
        f"({', '.join(scripts) or 'it has no commands'})",
        "Name it with --executable.",
    )


def read_about(venv: Path, executable: str, pip_spec: str) -> dict[str, Any]:
    """The plugin's ``--about --format=json``, or a CatalogError naming the package."""
    try:
        done = subprocess.run(
            [str(venv / "bin" / executable), "--about", "--format=json"],
            capture_output=True,
            text=True,
            stdin=subprocess.DEVNULL,
            timeout=ABOUT_TIMEOUT_S,
        )
    except subprocess.TimeoutExpired:
        raise CatalogError(
            f"{pip_spec}: `{executable} --about --format=json` did not answer in "
            f"{ABOUT_TIMEOUT_S} s",
            "Only plugins that describe themselves (Singer SDK plugins) can be imported; "
            "write the catalog file by hand for the others.",
        ) from None
    try:
        about = json.loads(done.stdout)
    except json.JSONDecodeError:
        said = _tail(done.stderr or done.stdout) or "nothing"
        raise CatalogError(
            f"{pip_spec}: `{executable} --about --format=json` did not print JSON "
            f"(exit {done.returncode}; it said: {said})",
            "Only plugins that describe themselves (Singer SDK plugins) can be imported; "
            "write the catalog file by hand for the others.",
        ) from None
    if not isinstance(about, dict) or not isinstance(about.get("settings"), dict):
        raise CatalogError(
            f"{pip_spec}: its --about JSON has no 'settings' schema",
            "Only plugins that describe their settings can be imported; write the catalog "
            "file by hand.",
        )
    return about


def _label(name: str) -> str:
    words = re.sub(r"([a-z0-9])([A-Z])", r"\1 \2", name).replace("_", " ").replace("-", " ")
    text = " ".join(words.split())
    return text[:1].upper() + text[1:]


def _types(schema: Mapping[str, Any]) -> list[str]:
    kind = schema.get("type")
    kinds = [kind] if isinstance(kind, str) else list(kind or [])
    return [k for k in kinds if k != "null"]


def _clean(schema: Any) -> Any:
    """A JSON Schema without the annotations a form does not need (recursively), nested
    credentials marked write-only."""
    if isinstance(schema, list):
        return [_clean(s) for s in schema]
    if not isinstance(schema, Mapping):
        return schema
    cleaned: dict[str, Any] = {}
    for key, value in schema.items():
        if key in ("secret", "examples"):
            continue
        if key in ("anyOf", "oneOf", "allOf") and isinstance(value, list):
            # Some plugins write a bare type name ("null") where a schema belongs.
            cleaned[key] = [_clean({"type": v} if isinstance(v, str) else v) for v in value]
        elif key == "properties" and isinstance(value, Mapping):
            cleaned[key] = {
                name: _nested(name, sub) for name, sub in value.items() if isinstance(sub, Mapping)
            }
        else:
            cleaned[key] = _clean(value)
    return cleaned


def _nested(name: str, schema: Mapping[str, Any]) -> Any:
    cleaned = _clean(schema)
    if _is_secret(name, schema) and "string" in _types(schema):
        cleaned["writeOnly"] = True
        cleaned["format"] = "password"
    return cleaned


def _is_secret(name: str, schema: Mapping[str, Any]) -> bool:
    declared = bool(schema.get("secret") or schema.get("writeOnly"))
    return declared or looks_secret(name, str(schema.get("description") or ""))


def _holds_secret(schema: Any) -> bool:
    """Whether a cleaned schema has a write-only part anywhere inside."""
    if isinstance(schema, Mapping):
        if schema.get("writeOnly"):
            return True
        return any(_holds_secret(v) for v in schema.values())
    if isinstance(schema, list):
        return any(_holds_secret(v) for v in schema)
    return False


def setting_from_schema(
    name: str, schema: Mapping[str, Any], required: bool, order: int
) -> tuple[dict[str, Any], bool]:
    """One catalog setting from a property of the plugin's settings schema, and whether
    it was made secret against the plugin's own word."""
    kinds = _types(schema)
    declared_secret = bool(schema.get("secret") or schema.get("writeOnly"))
    setting: dict[str, Any] = {"name": name, "label": schema.get("title") or _label(name)}
    kind = kinds[0] if len(kinds) == 1 else None
    value_schema: dict[str, Any] | None = None
    if kind == "string" and schema.get("format") == "date-time":
        setting["type"] = "datetime"
    elif kind == "string" and schema.get("format") == "date":
        setting["type"] = "date"
    elif kind in ("string", "integer", "number", "boolean"):
        setting["type"] = kind
    elif kind == "array":
        setting["type"] = "array"
        items = schema.get("items")
        if not (isinstance(items, Mapping) and _types(items) == ["string"] and len(items) <= 2):
            value_schema = {
                "type": "array",
                **_clean({k: v for k, v in schema.items() if k not in _ANNOTATIONS}),
            }
    else:  # objects, and anything of several or no declared types (oneOf, anyOf ...)
        setting["type"] = "object"
        body = _clean({k: v for k, v in schema.items() if k not in _ANNOTATIONS})
        if kind != "object":
            body.pop("type", None)
        value_schema = body
    if value_schema is not None:
        value_schema.pop("type", None)
        setting["value_schema"] = value_schema
    secret = declared_secret or looks_secret(name, str(schema.get("description") or ""))
    if value_schema is not None and _holds_secret(value_schema):
        secret = True
    if secret and setting["type"] not in ("string", "object", "array"):
        secret = False  # a number or a flag is never a credential
    if required:
        setting["required"] = True
    if secret:
        setting["secret"] = True
    if kind == "string" and isinstance(schema.get("enum"), list):
        setting["choices"] = [str(c) for c in schema["enum"] if c is not None]
    default = schema.get("default")
    # A "number" reaches its plugin as text (Meltano's decimal kind does not serialise),
    # which SDK plugins refuse: left unset, the plugin applies its own default.
    if default is not None and not secret and setting["type"] != "number":
        if not _import_time(default):
            setting["default"] = default
    if not required:
        setting["advanced"] = True
    setting["order"] = order
    description = str(schema.get("description") or "").strip()
    if description:
        setting["help"] = " ".join(description.split())[:1000]
    return setting, secret and not declared_secret


def _import_time(value: Any) -> bool:
    """Whether a default is the moment the plugin described itself (an ``end_date`` of
    "now"): written into the catalog, it would freeze that day into every sync."""
    if not isinstance(value, str) or len(value) < 10:
        return False
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return False
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return abs(datetime.now(UTC) - moment) < timedelta(days=2)


def _connector_id(executable: str) -> str:
    stem = re.sub(r"^(tap|target)-", "", executable)
    return re.sub(r"[^a-z0-9_]", "_", stem.lower()).strip("_") or "connector"


def generate(
    about: Mapping[str, Any],
    pip_spec: str,
    executable: str,
    connector_id: str,
    kind: str = "source",
) -> tuple[dict[str, Any], list[str]]:
    """The catalog file's data for a plugin's about, and the settings made secret."""
    package, _version = _package(pip_spec.split()[0])
    properties = about["settings"].get("properties") or {}
    required = set(about["settings"].get("required") or [])
    settings = []
    made_secret = []
    start_date_setting = None
    per_integration = {}
    for index, (name, schema) in enumerate(properties.items()):
        if not isinstance(schema, Mapping) or name in PLATFORM_SETTINGS:
            continue
        if kind == "destination":
            if name in PER_INTEGRATION:
                per_integration[name] = PER_INTEGRATION[name]
                continue
        elif name == START_DATE:  # the integration's own start date fills it
            start_date_setting = name
            continue
        setting, forced = setting_from_schema(name, schema, name in required, (index + 1) * 10)
        settings.append(setting)
        if forced:
            made_secret.append(name)
    label = str(about.get("name") or executable)
    extractor: dict[str, Any] = {
        "name": executable,
        "namespace": executable.replace("-", "_"),
        "pip_url": pip_spec,
        "executable": executable,
        "capabilities": sorted(str(c) for c in about.get("capabilities") or []),
    }
    if start_date_setting:
        extractor["start_date_setting"] = start_date_setting
    if kind == "destination":
        return {
            "id": connector_id,
            "kind": "destination",
            "label": _label(re.sub(r"^(tap|target)-", "", label)),
            "category": "Warehouse",
            "description": " ".join(str(about.get("description") or f"{label} (Singer)").split()),
            "docs_url": f"https://pypi.org/project/{package}/",
            "logo": GENERIC_LOGO,
            "tier": "community",
            "loader": extractor,
            "settings": settings,
            "destination": {
                "per_integration": per_integration,
                "table_name": "{integration}.{table}",
                "connection_test": "reachability",
            },
        }, made_secret
    data: dict[str, Any] = {
        "id": connector_id,
        "label": _label(re.sub(r"^(tap|target)-", "", label)),
        "category": "Other",
        "description": " ".join(str(about.get("description") or f"{label} (Singer)").split()),
        "docs_url": f"https://pypi.org/project/{package}/",
        "logo": GENERIC_LOGO,
        "tier": "community",
        "extractor": extractor,
        "settings": settings,
        "streams": [],
        "dynamic_streams": True,
        # Any name the source's discovery lists (the sync checks against it).
        "stream_name_pattern": r"^[A-Za-z0-9_][A-Za-z0-9_.$-]{0,199}$",
        "stream_name_help": "a stream name from the source's discovery "
        "(`integrations discover NAME`)",
        "schema_probe": "discovery",
    }
    return data, made_secret


def merge(
    existing: Mapping[str, Any], generated: dict[str, Any]
) -> tuple[dict[str, Any], list[str]]:
    """``generated`` with the hand-written parts of ``existing`` kept; the changes."""
    merged = dict(existing)
    changes: list[str] = []
    plugin = "loader" if generated.get("kind") == "destination" else "extractor"
    old_pip = (existing.get(plugin) or {}).get("pip_url")
    if old_pip != generated[plugin]["pip_url"]:
        changes.append(f"package: {old_pip} → {generated[plugin]['pip_url']}")
    merged[plugin] = {**(existing.get(plugin) or {}), **generated[plugin]}
    for key, value in generated.items():  # what a hand-written file does not say
        merged.setdefault(key, value)
    old = {s["name"]: s for s in existing.get("settings") or [] if isinstance(s, dict)}
    settings = []
    for new in generated["settings"]:
        before = old.get(new["name"])
        if before is None:
            changes.append(f"setting added: {new['name']}")
            settings.append(new)
            continue
        kept = dict(new)
        for key in HAND_WRITTEN_SETTING_KEYS:
            if key in before:
                kept[key] = before[key]
            elif key in kept and key != "label":
                kept.pop(key)
        if before.get("value_schema") != new.get("value_schema"):
            changes.append(f"setting {new['name']}: its value's schema changed")
        for key in ("type", "required", "secret", "default", "choices"):
            if before.get(key) != new.get(key):
                changes.append(
                    f"setting {new['name']}: {key} {before.get(key)!r} → {new.get(key)!r}"
                )
        settings.append(kept)
    gone = sorted(set(old) - {s["name"] for s in generated["settings"]})
    changes += [f"setting removed: {name}" for name in gone]
    merged["settings"] = settings
    return merged, changes


def _header(pip_spec: str) -> str:
    return (
        f"# Imported from {pip_spec}'s own description by `integrations catalog import`.\n"
        "# Re-importing keeps what is written here by hand: label, logo, category,\n"
        "# description, each setting's help, order and advanced, and the fields the plugin\n"
        "# does not describe.\n"
    )


def import_connector(
    pip_spec: str,
    catalog_dir: Path,
    *,
    connector_id: str | None = None,
    kind: str = "source",
    executable: str | None = None,
    log: Any = print,
) -> ImportResult:
    """Install ``pip_spec``, read its description, write (or update) its catalog file
    (a destination's under ``destinations/``)."""
    if kind not in ("source", "destination"):
        raise CatalogError(f"Unknown kind '{kind}'", "Use source or destination (--kind).")
    package, version = _package(pip_spec)
    pip_url = pip_spec
    with tempfile.TemporaryDirectory(prefix="catalog-import-") as scratch:
        venv = Path(scratch) / "venv"
        log(f"Installing {pip_spec} ...")
        install_scratch(pip_spec, venv)
        command = choose_executable(_scripts(venv, package), package, kind, executable)
        log(f"Reading `{command} --about --format=json` ...")
        try:
            about = read_about(venv, command, pip_spec)
        except CatalogError as exc:
            # Plugins on older libraries import pkg_resources, which setuptools removed
            # in release 81: pinned beside the plugin, the older setuptools brings it back.
            if "No module named 'pkg_resources'" not in exc.reason:
                raise
            log(f"It needs pkg_resources: adding {PKG_RESOURCES} beside it ...")
            install_scratch(PKG_RESOURCES, venv, create=False)
            about = read_about(venv, command, pip_spec)
            pip_url = f"{pip_spec} {PKG_RESOURCES}"
    chosen_id = connector_id or _connector_id(command)
    if not re.fullmatch(r"[a-z][a-z0-9_]*", chosen_id):
        raise CatalogError(
            f"'{chosen_id}' is not a valid connector id",
            "Use lower-case letters, digits and underscores, starting with a letter (--id).",
        )
    generated, made_secret = generate(about, pip_url, command, chosen_id, kind)
    folder = catalog_dir / DESTINATIONS_FOLDER if kind == "destination" else catalog_dir
    folder.mkdir(exist_ok=True)
    path = folder / f"{chosen_id}.yaml"
    created = not path.exists()
    changes: list[str] = []
    data = generated
    if not created:
        try:
            existing = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except yaml.YAMLError as exc:
            raise CatalogError(
                f"{path.name} is not valid YAML ({exc})", "Fix or remove it, then import again."
            ) from None
        data, changes = merge(existing, generated)
    # Checked like any catalog file before anything is written: a plugin whose
    # description the catalog cannot hold fails here, naming the file.
    connector_from_data(data, path)
    text = _header(pip_spec) + yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100)
    staged = path.with_name(f".{path.name}.importing")
    staged.write_text(text, encoding="utf-8")
    staged.replace(path)
    return ImportResult(
        path=path,
        connector_id=chosen_id,
        version=version,
        created=created,
        changes=changes,
        made_secret=made_secret,
        settings=len(data["settings"]),
        plugin=command,
    )
