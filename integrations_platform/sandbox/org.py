"""The sandbox's orgs: ``core`` (the three objects the demo syncs) and ``full``.

``full`` looks like a real org to a tap's discovery: more than 300 objects — standard ones,
custom ones (``__c``) with custom fields, history objects that have only ``CreatedDate``,
share objects that have ``LastModifiedDate`` but no ``SystemModstamp``, a few with no
timestamp at all (synced whole), and objects the API cannot query. Accounts and contacts
carry compound address fields, as Salesforce's do.
"""

from .data import COMMON_FIELDS, CORE_OBJECTS, STAGES, FieldSpec, ObjectSpec

ORGS = ("core", "full")

_ID, _DELETED, *_REST = COMMON_FIELDS
_STAMPS = (_DELETED, *_REST)


def _address(prefix: str) -> tuple[FieldSpec, ...]:
    """A compound address and the fields it is made of (``BillingStreet``, ...)."""
    compound = f"{prefix}Address"
    parts = (
        FieldSpec(f"{prefix}Street", "textarea", compound_of=compound),
        FieldSpec(f"{prefix}City", "string", compound_of=compound),
        FieldSpec(f"{prefix}PostalCode", "string", compound_of=compound),
        FieldSpec(f"{prefix}Country", "string", compound_of=compound),
    )
    return (FieldSpec(compound, "address", f"{prefix} Address"), *parts)


# Standard objects an org has beyond the demo's, each with its usual timestamps.
_STANDARD = (
    "Asset",
    "AssetRelationship",
    "AuthorizationForm",
    "Campaign",
    "CampaignMember",
    "Case",
    "CaseComment",
    "CaseContactRole",
    "ContactRequest",
    "ContentDocument",
    "ContentVersion",
    "Contract",
    "ContractContactRole",
    "CreditMemo",
    "Document",
    "DuplicateRecordSet",
    "EmailMessage",
    "Entitlement",
    "Event",
    "Expense",
    "Folder",
    "Idea",
    "Image",
    "Incident",
    "Individual",
    "Invoice",
    "Location",
    "Macro",
    "Note",
    "OpportunitySplit",
    "Order",
    "OrderItem",
    "PartyConsent",
    "Payment",
    "Pricebook2",
    "PricebookEntry",
    "Problem",
    "Product2",
    "Profile",
    "Quote",
    "QuoteLineItem",
    "Recommendation",
    "RecordType",
    "Scorecard",
    "ServiceAppointment",
    "ServiceContract",
    "Shift",
    "Solution",
    "Task",
    "Topic",
    "User",
    "UserRole",
    "WorkOrder",
    "WorkOrderLineItem",
    "WorkType",
)
# Objects whose change history the org tracks: <Object>History has only CreatedDate.
_TRACKED = (
    "Account",
    "Asset",
    "Campaign",
    "Case",
    "Contact",
    "Contract",
    "Entitlement",
    "Lead",
    "Opportunity",
    "Order",
    "Product2",
    "Quote",
    "ServiceContract",
    "Solution",
    "WorkOrder",
)
# Sharing rows: LastModifiedDate, no SystemModstamp.
_SHARED = (
    "Account",
    "Asset",
    "Campaign",
    "Case",
    "Contact",
    "Lead",
    "Opportunity",
    "Order",
    "User",
    "WorkOrder",
)
# No timestamp at all: a sync reads them whole.
_UNSTAMPED = ("BusinessHours", "FiscalYearSettings", "Holiday", "Period", "OrgWideEmailAddress")
# The API cannot query these (Salesforce lists them all the same).
_NOT_QUERYABLE = (
    "AggregateResult",
    "AttachedContentNote",
    "CombinedAttachment",
    "ContentBody",
    "FeedSignal",
    "LookedUpFromActivity",
    "NoteAndAttachment",
    "OpenActivity",
    "OwnedContentDocument",
    "ProcessInstanceHistory",
)
# Custom objects (``<Name>__c``): enough to make the org pass 300 objects.
_CUSTOM_NOUNS = (
    "Project",
    "Invoice_Line",
    "Shipment",
    "Warehouse",
    "Subscription",
    "Vendor",
    "Region",
    "Territory",
    "Survey",
    "Survey_Answer",
    "Training",
    "Certificate",
    "Device",
    "Sensor",
    "Reading",
    "Ticket",
    "Claim",
    "Policy",
    "Vehicle",
    "Trip",
)
_CUSTOM_PER_NOUN = 11


def _standard(name: str) -> tuple[FieldSpec, ...]:
    return (
        _ID,
        *_STAMPS,
        FieldSpec("Description", "textarea"),
        FieldSpec("Status", "picklist", picklist=("New", "Active", "Closed")),
    )


def _custom_fields() -> tuple[FieldSpec, ...]:
    return (
        _ID,
        *_STAMPS,
        FieldSpec("Amount__c", "currency", "Amount", custom=True),
        FieldSpec("Status__c", "picklist", "Status", custom=True, picklist=STAGES[:3]),
        FieldSpec("Notes__c", "textarea", "Notes", custom=True),
        FieldSpec("Owner_Email__c", "email", "Owner Email", custom=True),
        FieldSpec(
            "Account__c",
            "reference",
            "Account",
            custom=True,
            reference_to="Account",
            relationship_name="Account__r",
        ),
    )


def _related(parent: str, suffix: str, stamp: str, fields: tuple[str, ...]) -> ObjectSpec:
    """``<parent>History`` (stamped by CreatedDate only) or ``<parent>Share`` (by
    LastModifiedDate, no SystemModstamp)."""
    kinds = {"OldValue": "anyType", "NewValue": "anyType"}
    choices = {
        "Field": ("Name", "Owner", "Status"),
        "AccessLevel": ("Read", "Edit", "All"),
        "RowCause": ("Owner", "Manual", "Rule"),
    }
    return ObjectSpec(
        f"{parent}{suffix}",
        f"{parent} {suffix}",
        "",
        (
            _ID,
            _DELETED,
            FieldSpec(stamp.replace(" ", ""), "datetime", stamp, nillable=False),
            *(FieldSpec(f, kinds.get(f, "picklist"), picklist=choices.get(f, ())) for f in fields),
        ),
    )


def _prefix(index: int) -> str:
    """A key prefix no core object uses: ``a00``, ``a01``, ..."""
    alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    return f"a{alphabet[index // 36 % 36]}{alphabet[index % 36]}"


def build_org(org: str = "core") -> dict[str, ObjectSpec]:
    """The objects of ``org`` (``core`` or ``full``), by name."""
    if org not in ORGS:
        raise ValueError(f"unknown sandbox org {org!r}; choose one of {', '.join(ORGS)}")
    objects = dict(CORE_OBJECTS)
    if org == "core":
        return objects
    objects["Account"] = objects["Account"].with_fields(
        FieldSpec("Phone", "phone"), *_address("Billing")
    )
    objects["Contact"] = objects["Contact"].with_fields(
        FieldSpec("Phone", "phone"), *_address("Mailing")
    )
    extra: list[ObjectSpec] = [
        ObjectSpec(
            "Lead",
            "Leads",
            "00Q",
            (
                _ID,
                *_STAMPS,
                FieldSpec("FirstName", "string", "First Name"),
                FieldSpec("LastName", "string", "Last Name", nillable=False),
                FieldSpec("Company", "string", nillable=False),
                FieldSpec("Email", "email"),
                FieldSpec("Status", "picklist", picklist=("Open", "Working", "Converted")),
                *_address(""),
            ),
        )
    ]
    extra += [ObjectSpec(n, f"{n}s", "", _standard(n)) for n in _STANDARD]
    extra += [
        _related(n, "History", "Created Date", ("Field", "OldValue", "NewValue")) for n in _TRACKED
    ]
    extra += [
        _related(n, "Share", "Last Modified Date", ("AccessLevel", "RowCause")) for n in _SHARED
    ]
    extra += [ObjectSpec(n, f"{n}s", "", (_ID, FieldSpec("Name", "string"))) for n in _UNSTAMPED]
    extra += [
        ObjectSpec(n, n, "", (_ID, FieldSpec("Name", "string")), queryable=False)
        for n in _NOT_QUERYABLE
    ]
    extra += [
        ObjectSpec(f"{noun}_{i:02d}__c", f"{noun}s {i}", "", _custom_fields(), custom=True)
        for noun in _CUSTOM_NOUNS
        for i in range(1, _CUSTOM_PER_NOUN + 1)
    ]
    for index, spec in enumerate(extra):
        objects[spec.name] = spec if spec.prefix else spec.with_prefix(_prefix(index))
    return objects
