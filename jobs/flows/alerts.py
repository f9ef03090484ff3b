"""The `alerts.scan` job: every quarter hour, per wholesaler, find what went wrong and e-mail the people who asked.

The scan only reads what failures already recorded and keeps one alert row per (organization, kind, subject), so a
second run (a double fire, or a person pressing Run now) tells nobody twice.
"""

from __future__ import annotations

from sqlalchemy import func, select

from jobs import clock
from jobs.context import RunContext
from jobs.preview import DryRun
from jobs.targets import target_key
from portal.extensions import db
from portal.models import Partnership
from portal.services import alerts

INTERVAL = 15 * 60


def wholesaler_targets(slot: int | None = None) -> list[tuple[str, tuple]]:
    """One pick per wholesaler that has partners: its oldest partnership stands for it (runs are the wholesaler's)."""
    slot = slot if slot is not None else int(clock.time()) // INTERVAL
    rows = db.session.execute(
        select(func.min(Partnership.id)).group_by(Partnership.wholesaler_id).order_by(func.min(Partnership.id))
    ).scalars()
    return [(target_key("partnership", pid), ("slot", slot)) for pid in rows]


def scan(ctx: RunContext) -> None:
    """Scan the wholesaler this run's partnership belongs to."""
    result = alerts.scan(ctx.target.wholesaler_id)
    ctx.set_total(result.get("open", 0))
    ctx.count("created", result.get("new", 0))
    ctx.count("updated", result.get("resolved", 0))
    ctx.run.message = (
        f"{result.get('open', 0)} open alert(s), {result.get('new', 0)} new, {result.get('resolved', 0)} resolved; "
        f"{result.get('sent', 0)} e-mail(s) and {result.get('digests', 0)} digest(s) sent"
        + (f" ({result['reason']})" if result.get("reason") else "")
        + "."
    )


def preview_scan(target, dry: DryRun) -> DryRun:
    """What a scan sees now for this wholesaler, without recording an alert or sending an e-mail."""
    for finding in alerts.detect(target.wholesaler_id):
        dry.change += 1
        if len(dry.sample) < 10:
            dry.sample.append(finding.title)
    dry.notes.append("A scan e-mails only what is new or still open after 24 hours; the dry run sends nothing.")
    return dry
