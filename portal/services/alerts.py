"""Alerts: find what went wrong for a wholesaler, keep one row per (organization, kind, subject), and e-mail it.

A scan (the `alerts.scan` job) looks at the records failures already leave behind — runs failed for good, records
past their attempt limit, orders past the two-hour promise, stores that lost access, gateway refusals, failed
payments — so it needs no hook in the code that records them, and running it twice tells nobody twice.
"""

from __future__ import annotations

import logging
import re
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import or_, select, update

from portal.extensions import db
from portal.models import (
    Alert,
    AlertSetting,
    Connection,
    Invoice,
    Order,
    Organization,
    Partnership,
    RecordFailure,
    SyncRun,
    User,
    utcnow,
)
from portal.services import mail

log = logging.getLogger(__name__)

KINDS = {
    "job_failed": "A job failed for good",
    "record_failing": "A record keeps failing",
    "order_late": "An order passed its two-hour promise",
    "store_access": "A store lost access",
    "gateway_access": "A payment gateway refused our key",
    "payment_failed": "A payment failed",
}
ORDER_PROMISE = timedelta(hours=2)  # a received order is in the wholesaler's system of record within two hours
REPEAT_AFTER = timedelta(hours=24)  # an alert still open is e-mailed again after this long, not before
MIN_GAP = timedelta(minutes=10)  # at most one alert e-mail per organization in this window: the rest wait for it
MAX_PER_MAIL = 20  # alerts listed in one e-mail; the others are counted and shown on the next one
LOOKBACK = timedelta(days=7)  # runs and orders older than this are history, not news
DIGEST_EVERY = timedelta(hours=24)
_GATEWAY_AUTH = re.compile(r"AuthenticationError|PermissionError|\b401\b|\b403\b|unauthori[sz]ed|api key", re.I)
_ORDER_DONE = ("shipped", "partially_shipped", "completed", "cancelled", "billed")


@dataclass(frozen=True)
class Finding:
    """A problem a scan saw now."""

    kind: str
    subject: str
    title: str
    detail: str = ""
    link: str | None = None


def _job_findings(org_id: int, now: datetime) -> list[Finding]:
    """The latest finished run of each (job, target) when it failed for good (no retry left)."""
    runs = db.session.execute(
        select(SyncRun)
        .where(
            SyncRun.organization_id == org_id,
            SyncRun.finished_at >= now - LOOKBACK,
            SyncRun.status.in_(("done", "done_with_failures", "failed")),
        )
        .order_by(SyncRun.finished_at, SyncRun.id)
    ).scalars()
    latest: dict[tuple[str, str], SyncRun] = {}
    for run in runs:
        latest[(run.job_name, run.target_key)] = run
    findings = []
    for (job_name, target), run in sorted(latest.items()):
        if run.status != "failed":
            continue
        message = run.message or ""
        gateway = job_name == "billing.run" and _GATEWAY_AUTH.search(message)
        findings.append(
            Finding(
                "gateway_access" if gateway else "job_failed",
                f"{job_name}@{target}",
                f"{job_name} on {target} failed after {run.attempts} attempt(s)",
                message,
                f"/sync/runs/{run.id}",
            )
        )
    return findings


def _record_findings(org_id: int) -> list[Finding]:
    rows = db.session.execute(
        select(RecordFailure).where(
            RecordFailure.organization_id == org_id,
            RecordFailure.resolved_at.is_(None),
            RecordFailure.attempts >= RecordFailure.FAILED_AFTER,
        )
    ).scalars()
    return [
        Finding(
            "record_failing",
            f"record:{row.job_name}@{row.target_key}:{row.record_key}",
            f"{row.label or row.record_key} failed {row.attempts} times in {row.job_name}",
            row.last_error,
            "/sync/",
        )
        for row in rows
    ]


def _late_orders(org_id: int, now: datetime) -> list[Finding]:
    rows = db.session.execute(
        select(Order).where(
            Order.wholesaler_id == org_id,
            Order.received_at <= now - ORDER_PROMISE,
            Order.received_at >= now - LOOKBACK,
            Order.sent_to_sor_at.is_(None),
            Order.shipped_at.is_(None),
            Order.cancelled_at.is_(None),
            Order.status.not_in(_ORDER_DONE),
        )
    ).scalars()
    return [
        Finding(
            "order_late",
            f"order:{order.id}",
            f"Order {order.retailer_order_name or order.remote_order_id} is not in your system of record "
            f"{_hours(now - order.received_at)} after it was received",
            order.last_error or "",
            f"/orders/{order.id}",
        )
        for order in rows
    ]


def _hours(delta: timedelta) -> str:
    hours = int(delta.total_seconds() // 3600)
    return f"{hours} hours" if hours != 1 else "1 hour"


def _access_findings(org_id: int) -> list[Finding]:
    """The wholesaler's own connections, and its partners' stores, that need reconnecting or were uninstalled."""
    partners = select(Partnership.retailer_id).where(
        Partnership.wholesaler_id == org_id, Partnership.status.in_(("active", "paused"))
    )
    rows = db.session.execute(
        select(Connection, Organization)
        .join(Organization, Organization.id == Connection.organization_id)
        .where(
            Connection.status.in_(("needs_reauth", "uninstalled")),
            or_(
                Connection.organization_id == org_id,
                (Connection.organization_id.in_(partners.scalar_subquery())) & (Connection.role == "store"),
            ),
        )
    ).all()
    findings = []
    for connection, owner in rows:
        what = "Your system of record" if connection.organization_id == org_id else f"{owner.name}'s store"
        state = "was uninstalled" if connection.status == "uninstalled" else "needs to be reconnected"
        findings.append(
            Finding(
                "store_access",
                f"connection:{connection.id}:{connection.status}",
                f"{what} {connection.address or connection.platform} {state}",
                "Nothing syncs with it until it is reconnected.",
                "/sync/",
            )
        )
    return findings


def _payment_findings(org_id: int) -> list[Finding]:
    rows = db.session.execute(
        select(Invoice, Organization)
        .join(Organization, Organization.id == Invoice.retailer_id)
        .where(Invoice.wholesaler_id == org_id, Invoice.status == "payment_failed")
    ).all()
    return [
        Finding(
            "payment_failed",
            f"invoice:{invoice.id}",
            f"{retailer.name}'s payment of {invoice.total} {invoice.currency} for {invoice.billing_date} failed",
            invoice.last_error or "",
            f"/billing/partnerships/{invoice.partnership_id}/invoices",
        )
        for invoice, retailer in rows
    ]


def detect(org_id: int, now: datetime | None = None) -> list[Finding]:
    """Every problem of wholesaler `org_id` that is there now."""
    now = now or utcnow()
    return [
        *_job_findings(org_id, now),
        *_record_findings(org_id),
        *_late_orders(org_id, now),
        *_access_findings(org_id),
        *_payment_findings(org_id),
    ]


def record(org_id: int, findings: list[Finding], now: datetime) -> dict:
    """Keep one row per finding (new, seen again, or back after being resolved); resolve the rows not seen now."""
    rows = {
        (row.kind, row.subject): row
        for row in db.session.execute(select(Alert).where(Alert.organization_id == org_id)).scalars()
    }
    seen, opened = set(), 0
    for finding in findings:
        key = (finding.kind, finding.subject)
        seen.add(key)
        row = rows.get(key)
        if row is None:
            row = Alert(organization_id=org_id, kind=finding.kind, subject=finding.subject, first_seen_at=now)
            db.session.add(row)
            opened += 1
        elif row.resolved_at is not None:  # the same problem came back: it is news again
            row.resolved_at, row.notified_at, row.first_seen_at = None, None, now
            opened += 1
        row.title, row.detail, row.link, row.last_seen_at = finding.title[:500], finding.detail, finding.link, now
    resolved = 0
    for key, row in rows.items():
        if key not in seen and row.resolved_at is None:
            row.resolved_at = now
            resolved += 1
    db.session.commit()
    return {"open": len(seen), "new": opened, "resolved": resolved}


def _settings_by_user(users: list[User]) -> dict[int, AlertSetting | None]:
    ids = [u.id for u in users]
    rows = db.session.execute(select(AlertSetting).where(AlertSetting.user_id.in_(ids))).scalars() if ids else []
    found = {row.user_id: row for row in rows}
    return {u.id: found.get(u.id) for u in users}


def recipients(org_id: int) -> list[tuple[User, AlertSetting | None]]:
    """The wholesaler's people and the operators, each with their settings (None = the defaults)."""
    users = list(
        db.session.execute(
            select(User).where(or_(User.organization_id == org_id, User.role == "operator")).order_by(User.id)
        ).scalars()
    )
    settings = _settings_by_user(users)
    return [(user, settings[user.id]) for user in users]


def wants_now(setting: AlertSetting | None, kind: str) -> bool:
    """Whether a person with these settings is e-mailed an alert of `kind` as soon as it is found."""
    if setting is None:
        return True
    return bool(setting.immediate) and kind not in (setting.muted_kinds or "").split(",")


def _claim(due: list[Alert], now: datetime) -> list[Alert]:
    """Mark the due alerts notified; a row another scan claimed first (its notified_at moved) is dropped."""
    claimed = []
    for row in due:
        result = db.session.execute(
            update(Alert)
            .where(Alert.id == row.id, Alert.notified_at.is_(None) | (Alert.notified_at <= now - REPEAT_AFTER))
            .values(notified_at=now, times_notified=Alert.times_notified + 1)
        )
        if result.rowcount == 1:
            claimed.append(row)
    db.session.commit()
    return claimed


def _app_url() -> str:
    return str(current_app.config.get("SHOPIFY_APP_URL") or "").rstrip("/")


def _lines(alerts: list[Alert]) -> str:
    base = _app_url()
    out = []
    for row in alerts:
        out.append(f"- {KINDS.get(row.kind, row.kind)}: {row.title}")
        if row.detail:
            out.append(f"  {row.detail[:500]}")
        if row.link:
            out.append(f"  {base}{row.link}")
    return "\n".join(out)


def notify(org_id: int, now: datetime | None = None) -> dict:
    """E-mail the alerts that are due (new, or open past the repeat window) to the people who want them now.

    At most one e-mail per organization per MIN_GAP; each person gets one message listing their alerts.
    """
    now = now or utcnow()
    if not mail.enabled():
        return {"sent": 0, "reason": "mail is not configured"}
    recent = db.session.execute(
        select(Alert.id).where(Alert.organization_id == org_id, Alert.notified_at > now - MIN_GAP).limit(1)
    ).first()
    if recent is not None:
        return {"sent": 0, "reason": "rate limited"}
    due = list(
        db.session.execute(
            select(Alert)
            .where(
                Alert.organization_id == org_id,
                Alert.resolved_at.is_(None),
                Alert.notified_at.is_(None) | (Alert.notified_at <= now - REPEAT_AFTER),
            )
            .order_by(Alert.first_seen_at, Alert.id)
        ).scalars()
    )
    if not due:
        return {"sent": 0}
    claimed = _claim(due[:MAX_PER_MAIL], now)
    if not claimed:
        return {"sent": 0}
    org = db.session.get(Organization, org_id)
    more = len(due) - len(claimed)
    sent = 0
    for user, setting in recipients(org_id):
        mine = [row for row in claimed if wants_now(setting, row.kind)]
        if not mine:
            continue
        subject = f"[Wholesync] {org.name}: {len(mine)} alert(s) — {mine[0].title}"[:250]
        body = f"Wholesync found {len(mine)} problem(s) for {org.name}:\n\n{_lines(mine)}\n"
        if more > 0:
            body += f"\n{more} more will follow in the next e-mail.\n"
        body += f"\nChange what you receive: {_app_url()}/alerts/settings\n"
        try:
            mail.send([user.email], subject, body)
            sent += 1
        except Exception:  # one unreachable mailbox must not keep the others from hearing
            log.exception("alert e-mail to user %s failed", user.id)
    return {"sent": sent, "alerts": len(claimed)}


def scan(org_id: int, now: datetime | None = None) -> dict:
    """Detect, record and notify for one wholesaler, then send the digests that are due to its people."""
    now = now or utcnow()
    counts = record(org_id, detect(org_id, now), now)
    counts |= notify(org_id, now)
    counts["digests"] = send_digests(org_id, now)
    return counts


def _claim_digest(setting: AlertSetting, now: datetime) -> bool:
    result = db.session.execute(
        update(AlertSetting)
        .where(
            AlertSetting.id == setting.id,
            AlertSetting.digest_sent_at.is_(None) | (AlertSetting.digest_sent_at <= now - DIGEST_EVERY),
        )
        .values(digest_sent_at=now)
    )
    db.session.commit()
    return result.rowcount == 1


def send_digests(org_id: int, now: datetime | None = None) -> int:
    """The daily digest for each person of `org_id` (and operator) who asked for it: what was open or seen since
    their last digest. A day with nothing to say sends nothing."""
    now = now or utcnow()
    if not mail.enabled():
        return 0
    sent = 0
    for user, setting in recipients(org_id):
        if setting is None or not setting.daily_digest:
            continue
        since = setting.digest_sent_at or now - DIGEST_EVERY
        if since > now - DIGEST_EVERY:  # not a day since the last one
            continue
        scope = Alert.organization_id == org_id if not user.is_operator else Alert.organization_id.is_not(None)
        rows = list(
            db.session.execute(
                select(Alert).where(scope, Alert.last_seen_at >= since).order_by(Alert.organization_id, Alert.id)
            ).scalars()
        )
        if not rows or not _claim_digest(setting, now):
            continue
        by_kind: dict[str, int] = defaultdict(int)
        for row in rows:
            by_kind[KINDS.get(row.kind, row.kind)] += 1
        still = [row for row in rows if row.resolved_at is None]
        gone = [row for row in rows if row.resolved_at is not None]
        body = "Your Wholesync digest for the last day.\n\n" + "\n".join(f"{n} x {k}" for k, n in by_kind.items())
        if still:
            body += f"\n\nStill open:\n{_lines(still)}"
        if gone:
            body += f"\n\nResolved since:\n{_lines(gone)}"
        body += f"\n\nChange what you receive: {_app_url()}/alerts/settings\n"
        try:
            mail.send([user.email], f"[Wholesync] Daily digest: {len(still)} open, {len(gone)} resolved", body)
            sent += 1
        except Exception:
            log.exception("digest e-mail to user %s failed", user.id)
    return sent


def setting_for(user: User) -> AlertSetting:
    """The person's settings row, created with the defaults on first use (not committed)."""
    row = db.session.execute(select(AlertSetting).where(AlertSetting.user_id == user.id)).scalar_one_or_none()
    if row is None:
        row = AlertSetting(
            user_id=user.id, organization_id=user.organization_id, immediate=True, daily_digest=False, muted_kinds=""
        )
        db.session.add(row)
    return row


def save_settings(user: User, immediate: bool, daily_digest: bool, muted: list[str]) -> AlertSetting:
    """Store the person's choices; unknown kinds are ignored."""
    row = setting_for(user)
    if daily_digest and not row.daily_digest:
        row.digest_sent_at = utcnow()  # the first digest comes a day after it is asked for, covering that day
    row.immediate, row.daily_digest = immediate, daily_digest
    row.muted_kinds = ",".join(kind for kind in KINDS if kind in muted)
    db.session.commit()
    return row


def open_alerts(org_id: int | None, limit: int = 50) -> list[Alert]:
    """The open alerts of one organization (all organizations for None: the operator), newest first."""
    query = select(Alert).where(Alert.resolved_at.is_(None))
    if org_id is not None:
        query = query.where(Alert.organization_id == org_id)
    return list(db.session.execute(query.order_by(Alert.last_seen_at.desc()).limit(limit)).scalars())
