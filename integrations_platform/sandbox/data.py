"""Deterministic Salesforce-like objects and records for the sandbox server."""

from __future__ import annotations

import hashlib
import random
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

DEFAULT_START = datetime(2024, 1, 1, tzinfo=UTC)
DEFAULT_INTERVAL = timedelta(hours=8)

_BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_CHECKSUM_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"
STAGES = ("Prospecting", "Qualification", "Needs Analysis", "Proposal", "Closed Won", "Closed Lost")
_FIRST = ("Ada", "Grace", "Alan", "Edsger", "Barbara", "Donald", "Margaret", "Ken", "Linus")
_LAST = ("Lovelace", "Hopper", "Turing", "Dijkstra", "Liskov", "Knuth", "Hamilton", "Thompson")
_ADJ = ("Acme", "Globex", "Initech", "Umbrella", "Stark", "Wayne", "Tyrell", "Cyberdyne", "Soylent")
_NOUN = ("Systems", "Logistics", "Foods", "Analytics", "Robotics", "Energy", "Media", "Health")
_PRODUCT = ("Platform Renewal", "Expansion", "Pilot", "Support Plan", "Migration")


@dataclass(frozen=True)
class FieldSpec:
    """One field of an sObject as the describe endpoint reports it."""

    name: str
    type: str
    label: str = ""
    nillable: bool = True
    reference_to: str | None = None
    relationship_name: str | None = None
    picklist: tuple[str, ...] = ()
    custom: bool = False
    # The compound field this one is part of (``BillingCity`` of ``BillingAddress``).
    compound_of: str | None = None

    def describe(self) -> dict[str, Any]:
        """Return the field in Salesforce describe format."""
        soap = {
            "id": "tns:ID",
            "reference": "tns:ID",
            "datetime": "xsd:dateTime",
            "date": "xsd:date",
            "boolean": "xsd:boolean",
            "currency": "xsd:double",
            "address": "urn:address",
            "anyType": "xsd:anyType",
        }
        return {
            "name": self.name,
            "label": self.label or self.name,
            "type": self.type,
            "soapType": soap.get(self.type, "xsd:string"),
            "nillable": self.nillable,
            "length": {"id": 18, "reference": 18, "string": 255, "email": 80, "picklist": 255}.get(
                self.type, 0
            ),
            "precision": 18 if self.type == "currency" else 0,
            "scale": 2 if self.type == "currency" else 0,
            "referenceTo": [self.reference_to] if self.reference_to else [],
            "relationshipName": self.relationship_name,
            "picklistValues": [
                {"active": True, "defaultValue": False, "label": v, "value": v}
                for v in self.picklist
            ],
            "custom": self.custom,
            "compoundFieldName": self.compound_of,
            "calculated": False,
            "unique": False,
            "externalId": False,
            "filterable": True,
            "sortable": self.type != "textarea",
            "createable": self.type not in ("id", "datetime", "boolean"),
            "updateable": self.type not in ("id", "datetime", "boolean"),
            "idLookup": self.type == "id",
            "defaultedOnCreate": not self.nillable,
        }


@dataclass(frozen=True)
class ObjectSpec:
    """An sObject type: its API name, key prefix and fields."""

    name: str
    label_plural: str
    prefix: str
    fields: tuple[FieldSpec, ...]
    custom: bool = False
    queryable: bool = True

    def with_fields(self, *fields: FieldSpec) -> ObjectSpec:
        """This object with ``fields`` added (replacing fields of the same name)."""
        names = {f.name for f in fields}
        kept = tuple(f for f in self.fields if f.name not in names)
        return replace(self, fields=kept + fields)

    def with_prefix(self, prefix: str) -> ObjectSpec:
        """This object with another key prefix."""
        return replace(self, prefix=prefix)

    @property
    def stamped(self) -> bool:
        """Whether records carry SystemModstamp (what time-window queries filter on)."""
        return self.field("SystemModstamp") is not None

    def field(self, name: str) -> FieldSpec | None:
        """Look a field up case-insensitively, like SOQL does."""
        return next((f for f in self.fields if f.name.lower() == name.lower()), None)

    def summary(self, version: str) -> dict[str, Any]:
        """The entry for this object in the global describe (``/sobjects``)."""
        base = f"/services/data/v{version}.0/sobjects/{self.name}"
        flags = (
            "queryable",
            "retrieveable",
            "replicateable",
            "searchable",
            "createable",
            "updateable",
            "deletable",
            "layoutable",
            "triggerable",
        )
        return {
            "name": self.name,
            "label": self.name,
            "labelPlural": self.label_plural,
            "keyPrefix": self.prefix,
            "custom": self.custom,
            "customSetting": False,
            "deprecatedAndHidden": False,
            **dict.fromkeys(flags, True),
            "queryable": self.queryable,
            "urls": {
                "sobject": base,
                "describe": f"{base}/describe",
                "rowTemplate": f"{base}/{{ID}}",
            },
        }

    def describe(self, version: str) -> dict[str, Any]:
        """The full ``/sobjects/{name}/describe`` document."""
        return {
            **self.summary(version),
            "fields": [f.describe() for f in self.fields],
            "custom": self.custom,
            "childRelationships": [],
            "recordTypeInfos": [],
        }


COMMON_FIELDS = (
    FieldSpec("Id", "id", "Record ID", nillable=False),
    FieldSpec("IsDeleted", "boolean", "Deleted", nillable=False),
    FieldSpec("Name", "string"),
    FieldSpec("CreatedDate", "datetime", "Created Date", nillable=False),
    FieldSpec("LastModifiedDate", "datetime", "Last Modified Date", nillable=False),
    FieldSpec("SystemModstamp", "datetime", "System Modstamp", nillable=False),
)
_ACCOUNT_REF = FieldSpec(
    "AccountId", "reference", "Account ID", reference_to="Account", relationship_name="Account"
)

# The three objects the demo syncs (org.py builds the larger org around them).
CORE_OBJECTS: dict[str, ObjectSpec] = {
    "Account": ObjectSpec("Account", "Accounts", "001", COMMON_FIELDS),
    "Contact": ObjectSpec(
        "Contact",
        "Contacts",
        "003",
        COMMON_FIELDS
        + (
            _ACCOUNT_REF,
            FieldSpec("FirstName", "string", "First Name"),
            FieldSpec("LastName", "string", "Last Name", nillable=False),
            FieldSpec("Email", "email"),
        ),
    ),
    "Opportunity": ObjectSpec(
        "Opportunity",
        "Opportunities",
        "006",
        COMMON_FIELDS
        + (
            _ACCOUNT_REF,
            FieldSpec("Amount", "currency"),
            FieldSpec("StageName", "picklist", "Stage", nillable=False, picklist=STAGES),
            FieldSpec("CloseDate", "date", "Close Date", nillable=False),
        ),
    ),
}


def find_object(objects: Mapping[str, ObjectSpec], name: str) -> ObjectSpec | None:
    """Look an sObject up case-insensitively."""
    found = objects.get(name)
    if found is not None:
        return found
    return next((o for o in objects.values() if o.name.lower() == name.lower()), None)


def format_datetime(value: datetime) -> str:
    """Format like the Salesforce REST API: ``2024-01-01T08:00:00.000+0000``."""
    value = value.astimezone(UTC)
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}+0000"


def parse_datetime(value: str) -> datetime:
    """Parse a Salesforce or ISO-8601 datetime; naive values are taken as UTC."""
    parsed = datetime.fromisoformat(value)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def make_id(prefix: str, seed: int, number: int) -> str:
    """Build an 18-character Salesforce id, including the case-safe checksum suffix."""
    base = int(hashlib.sha256(f"{seed}:{prefix}".encode()).hexdigest(), 16) % 62**6 // 2
    n, body = base + number, ""
    for _ in range(6):
        n, digit = divmod(n, 62)
        body = _BASE62[digit] + body
    id15 = f"{prefix}5g0000{body}"
    suffix = ""
    for i in range(3):
        chunk = id15[i * 5 : (i + 1) * 5]
        suffix += _CHECKSUM_ALPHABET[sum(1 << j for j, c in enumerate(chunk) if c.isupper())]
    return id15 + suffix


class Dataset:
    """Generated records for every sObject; not thread safe (the server holds the lock)."""

    def __init__(
        self,
        records_per_object: int,
        start: datetime = DEFAULT_START,
        interval: timedelta = DEFAULT_INTERVAL,
        seed: int = 42,
        objects: Mapping[str, ObjectSpec] | None = None,
    ) -> None:
        self.seed = seed
        self.objects: dict[str, ObjectSpec] = dict(objects or CORE_OBJECTS)
        self.records: dict[str, list[dict[str, Any]]] = {name: [] for name in self.objects}
        start = start if start.tzinfo else start.replace(tzinfo=UTC)
        # Accounts first so that Contacts and Opportunities can reference them. The
        # objects beyond the demo's hold a few records each.
        for name, spec in self.objects.items():
            if not spec.queryable:
                continue
            count = records_per_object if name in _RICH else min(records_per_object, 3)
            for i in range(count):
                self.add(name, start + i * interval)

    def add_object(self, spec: ObjectSpec) -> None:
        """Add an sObject (or replace one with new fields; its records keep their values)."""
        self.objects[spec.name] = spec
        rows = self.records.setdefault(spec.name, [])
        for i, row in enumerate(rows):
            rows[i] = {f.name: row.get(f.name) for f in spec.fields}

    def add(self, sobject: str, modstamp: datetime) -> dict[str, Any]:
        """Append one record of `sobject` last modified at `modstamp` and return it."""
        rows = self.records[sobject]
        n = len(rows)
        rng = random.Random(f"{self.seed}:{sobject}:{n}")
        modstamp = modstamp.astimezone(UTC).replace(microsecond=modstamp.microsecond // 1000 * 1000)
        stamp = format_datetime(modstamp)
        record: dict[str, Any] = {
            "Id": make_id(self.objects[sobject].prefix, self.seed, n),
            "IsDeleted": False,
            "CreatedDate": format_datetime(modstamp - timedelta(hours=rng.randint(0, 48))),
            "LastModifiedDate": stamp,
            "SystemModstamp": stamp,
        }
        accounts = self.records.get("Account") or []
        account = accounts[n % len(accounts)] if accounts else None
        spec = self.objects[sobject]
        if sobject == "Account":
            record["Name"] = f"{rng.choice(_ADJ)} {rng.choice(_NOUN)} {n + 1}"
        elif sobject in ("Contact", "Lead"):
            first, last = rng.choice(_FIRST), rng.choice(_LAST)
            record.update(
                Name=f"{first} {last}",
                FirstName=first,
                LastName=last,
                Email=f"{first}.{last}{n + 1}@example.com".lower(),
                AccountId=account and account["Id"],
                Company=f"{rng.choice(_ADJ)} {rng.choice(_NOUN)}",
            )
        elif sobject == "Opportunity":
            close: date = modstamp.date() + timedelta(days=rng.randint(7, 90))
            record.update(
                Name=f"{account['Name'] if account else 'Direct'} - {rng.choice(_PRODUCT)}",
                AccountId=account and account["Id"],
                Amount=round(rng.uniform(1_000, 250_000), 2),
                StageName=rng.choice(STAGES),
                CloseDate=close.isoformat(),
            )
        for field in spec.fields:
            if field.name not in record:
                record[field.name] = _value(field, rng, n, modstamp, account)
        for field in spec.fields:  # a compound address holds its parts' values
            if field.type == "address":
                parts = {f.name: record[f.name] for f in spec.fields if f.compound_of == field.name}
                record[field.name] = {
                    key: next((v for k, v in parts.items() if k.endswith(suffix)), None)
                    for key, suffix in _ADDRESS_PARTS
                }
        # Keep describe order so responses look like Salesforce's.
        record = {f.name: record.get(f.name) for f in spec.fields}
        rows.append(record)
        return record


# Objects whose records are as many as asked; the others hold a few.
_RICH = ("Account", "Contact", "Opportunity", "Lead")
_ADDRESS_PARTS = (
    ("street", "Street"),
    ("city", "City"),
    ("postalCode", "PostalCode"),
    ("country", "Country"),
    ("state", "State"),
    ("latitude", "Latitude"),
    ("longitude", "Longitude"),
    ("geocodeAccuracy", "GeocodeAccuracy"),
)
_CITIES = ("Lyon", "Leeds", "Porto", "Graz", "Ghent", "Turin", "Malmo", "Cork")


def _value(
    field: FieldSpec,
    rng: random.Random,
    n: int,
    modstamp: datetime,
    account: dict[str, Any] | None,
) -> Any:
    """A plausible value of a generated record's field."""
    name = field.name
    if field.type == "reference":
        return account and account["Id"]
    if field.type == "currency":
        return round(rng.uniform(10, 50_000), 2)
    if field.type == "picklist":
        return rng.choice(field.picklist) if field.picklist else None
    if field.type == "email":
        return f"owner{n + 1}@example.com"
    if field.type == "phone":
        return f"+44 20 7946 {n % 10_000:04d}"
    if field.type == "boolean":
        return False
    if field.type == "date":
        return modstamp.date().isoformat()
    if field.type == "datetime":
        return format_datetime(modstamp)
    if name.endswith("City"):
        return rng.choice(_CITIES)
    if name.endswith("PostalCode"):
        return f"{rng.randint(1000, 99999)}"
    if name.endswith("Country"):
        return "GB"
    if name.endswith("Street"):
        return f"{rng.randint(1, 200)} High Street"
    if field.type in ("address", "anyType"):
        return None
    return f"{field.label or name} {n + 1}"
