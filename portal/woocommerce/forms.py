"""The connect form: the shop's address, and the consumer key and secret when they are pasted."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class ConnectForm:
    """What the merchant typed; `errors` by field after `validate`."""

    site: str = ""
    consumer_key: str = ""
    consumer_secret: str = ""
    method: str = "authorize"  # authorize | keys

    @classmethod
    def from_request(cls, form) -> ConnectForm:
        """The form's values, trimmed and bounded."""
        return cls(
            site=(form.get("site") or "").strip()[:255],
            consumer_key=(form.get("consumer_key") or "").strip()[:100],
            consumer_secret=(form.get("consumer_secret") or "").strip()[:100],
            method="keys" if form.get("method") == "keys" else "authorize",
        )

    def validate(self) -> dict[str, str]:
        """Field errors ({} when the form can be used)."""
        errors = {}
        if not self.site:
            errors["site"] = "Enter your shop's address."
        if self.method == "keys":
            if not self.consumer_key:
                errors["consumer_key"] = "Paste the consumer key (ck_…)."
            if not self.consumer_secret:
                errors["consumer_secret"] = "Paste the consumer secret (cs_…)."
        return errors
