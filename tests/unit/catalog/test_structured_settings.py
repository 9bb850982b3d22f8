"""Settings that are objects or lists of objects (a REST tap's streams, an SSH tunnel),
with secrets inside: the catalog model, validation, the form schema, redaction."""

from typing import Any

import pytest

from integrations_platform.catalog import ConnectorSpec, validate_config
from integrations_platform.catalog.form_schema import connector_form_schema
from integrations_platform.errors import ConfigurationError

STREAMS_SCHEMA = {
    "type": "array",
    "items": {
        "type": "object",
        "properties": {
            "name": {"type": "string"},
            "path": {"type": "string"},
            "primary_keys": {"type": "array", "items": {"type": "string"}},
        },
        "required": ["name", "path"],
    },
}
TUNNEL_SCHEMA = {
    "type": "object",
    "properties": {
        "host": {"type": "string"},
        "port": {"type": "integer"},
        "private_key": {"type": "string", "writeOnly": True, "format": "password"},
    },
    "required": ["host"],
}


def connector(**overrides: Any) -> ConnectorSpec:
    data: dict[str, Any] = {
        "id": "rest",
        "label": "REST",
        "category": "Other",
        "description": "d",
        "docs_url": "https://example.com",
        "logo": "logos/community.svg",
        "extractor": {
            "name": "tap-rest",
            "namespace": "tap_rest",
            "pip_url": "tap-rest==1.0",
            "executable": "tap-rest",
        },
        "settings": [
            {"name": "api_url", "label": "API URL", "required": True},
            {
                "name": "streams",
                "label": "Streams",
                "type": "array",
                "required": True,
                "value_schema": STREAMS_SCHEMA,
            },
            {
                "name": "ssh_tunnel",
                "label": "SSH tunnel",
                "type": "object",
                "secret": True,
                "value_schema": TUNNEL_SCHEMA,
            },
        ],
        "dynamic_streams": True,
    }
    data.update(overrides)
    return ConnectorSpec.model_validate(data)


def test_objects_and_lists_of_objects_are_checked_against_their_schema():
    spec = connector()
    good = {
        "api_url": "https://api.example.com",
        "streams": [{"name": "users", "path": "/users", "primary_keys": ["id"]}],
        "ssh_tunnel": {"host": "bastion", "port": 22, "private_key": "-----BEGIN KEY-----x"},
    }
    assert validate_config(spec, good) == good
    with pytest.raises(ConfigurationError) as missing:
        validate_config(spec, {**good, "streams": [{"name": "users"}]})
    assert missing.value.field_errors == {"streams": "[0]: missing path"}
    with pytest.raises(ConfigurationError) as wrong:
        validate_config(spec, {**good, "ssh_tunnel": {"host": "b", "port": "tw0-two"}})
    assert wrong.value.field_errors == {"ssh_tunnel": "port: expected type integer"}
    assert "tw0-two" not in str(wrong.value)  # never the value: it may be a secret's part
    with pytest.raises(ConfigurationError) as shape:
        validate_config(spec, {**good, "streams": {"name": "users"}})
    assert shape.value.field_errors == {"streams": "expected a list, got dict"}


def test_a_secret_object_is_write_only_and_every_part_of_it_is_redacted():
    spec = connector()
    form = connector_form_schema(spec)
    tunnel = form["properties"]["ssh_tunnel"]
    assert tunnel["type"] == "object" and tunnel["writeOnly"] is True
    assert tunnel["properties"]["private_key"]["format"] == "password"
    streams = form["properties"]["streams"]
    assert streams["type"] == "array"
    assert streams["items"]["required"] == ["name", "path"]
    config = {"ssh_tunnel": {"host": "bastion", "port": 2222, "private_key": "pk-canary-1"}}
    assert sorted(spec.secret_values(config)) == ["2222", "bastion", "pk-canary-1"]
    assert spec.setting("ssh_tunnel").meltano_kind == "object"  # Meltano parses it
    assert spec.setting("streams").meltano_kind == "array"


@pytest.mark.parametrize(
    ("setting", "message"),
    [
        (
            {"name": "x", "label": "X", "type": "string", "value_schema": {"type": "string"}},
            "only allowed on object and array",
        ),
        (
            {"name": "x", "label": "X", "type": "object", "value_schema": {"type": 5}},
            "not a valid JSON Schema",
        ),
        ({"name": "x", "label": "X", "type": "integer", "secret": True}, "string, object or array"),
        (
            {"name": "x", "label": "X", "type": "integer", "format": "file"},
            "only allowed on string",
        ),
    ],
)
def test_a_bad_structured_setting_is_refused(setting, message):
    with pytest.raises(ValueError, match=message):
        connector(settings=[setting])


def test_a_file_setting_is_text_the_page_may_upload():
    spec = connector(
        settings=[{"name": "private_key", "label": "Private key", "secret": True, "format": "file"}]
    )
    schema = connector_form_schema(spec)["properties"]["private_key"]
    assert schema["x-file"] is True and schema["writeOnly"] is True
    assert schema["format"] == "password"  # a secret file is masked like any secret
    key = (
        "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXk=\n-----END OPENSSH PRIVATE KEY-----\n"
    )
    assert validate_config(spec, {"private_key": key}) == {"private_key": key}


@pytest.mark.parametrize("name", ["cloud_provider.aws.aws_bucket", "format.format_type"])
def test_a_dotted_name_is_a_nested_setting(name: str) -> None:
    spec = connector(settings=[{"name": name, "label": "Nested", "required": True}])
    assert validate_config(spec, {name: "x"}) == {name: "x"}
    assert name in connector_form_schema(spec)["properties"]


@pytest.mark.parametrize("name", [".aws", "aws.", "aws..bucket", "aws.Bucket", "aws.1st"])
def test_a_malformed_dotted_name_is_refused(name: str) -> None:
    with pytest.raises(ValueError, match="name"):
        connector(settings=[{"name": name, "label": "Nested"}])
