"""The feed settings form: server, pinned host key, secrets, folders and the column mapping (our field -> theirs)."""

from __future__ import annotations

from dataclasses import dataclass, field

from integrations.feeds.settings import DEFAULT_MAPPING, FIELDS, FeedSettings
from portal.services.text import whole_number

TEXT_FIELDS = ("host", "username", "host_key", "catalog_path", "stock_path", "outbox", "orders_processed", "inbox",
               "processed")  # fmt: skip


@dataclass
class FeedForm:
    """What the wholesaler typed; secrets are kept apart so they are never echoed back into the page."""

    values: dict = field(default_factory=dict)
    private_key: str = ""
    authorization: str = ""

    @classmethod
    def from_settings(cls, settings: FeedSettings) -> FeedForm:
        """The form filled with saved settings."""
        return cls(values={key: getattr(settings, key) for key in FeedSettings.__dataclass_fields__})

    @classmethod
    def from_request(cls, form) -> FeedForm:
        """The posted values, trimmed and bounded; mapping cells left blank take the default column name."""
        values = {key: (form.get(key) or "").strip()[:1000] for key in TEXT_FIELDS}
        values["port"] = (form.get("port") or "22").strip()[:5]
        values["processed_days"] = (form.get("processed_days") or "14").strip()[:4]
        values["https_ca"] = (form.get("https_ca") or "").strip()[:20000]
        values["mapping"] = {
            name: (form.get(f"map_{name}") or "").strip()[:100] or DEFAULT_MAPPING[name] for name in FIELDS
        }
        return cls(values, (form.get("private_key") or "")[:20000], (form.get("authorization") or "").strip()[:2000])

    def validate(self) -> dict[str, str]:
        """Field errors ({} when the form can be saved)."""
        errors = {}
        for key, low, high in (("port", 1, 65535), ("processed_days", 0, 365)):
            value = whole_number(self.values.get(key, ""))
            if value is None or not low <= value <= high:
                errors[key] = f"A whole number from {low} to {high}."
        ca = self.values.get("https_ca", "")
        if ca and "-----BEGIN CERTIFICATE-----" not in ca:
            errors["https_ca"] = "A PEM certificate: -----BEGIN CERTIFICATE----- ... -----END CERTIFICATE-----."
        for key in ("host", "username"):
            if any(ch.isspace() for ch in self.values.get(key, "")):
                errors[key] = "No spaces."
        return errors
