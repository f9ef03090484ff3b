"""Alerts: what a scan finds, who is e-mailed, once, at what pace, and the digest — over a real SMTP server."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from portal.extensions import db
from portal.models import Alert, Invoice, Order, RecordFailure, SyncRun, utcnow
from portal.services import alerts
from portal.services.accounts import create_user
from tests.support import factories


def _failed_run(
    org, target, job="orders.push", message="Attempt 3 failed: RuntimeError: boom.", when=None, status="failed"
):
    run = SyncRun(
        job_name=job, organization_id=org.id, target_key=target, trigger="schedule", status=status,
        attempts=3, message=message, finished_at=when or utcnow(),
    )  # fmt: skip
    db.session.add(run)
    db.session.commit()
    return run


def _order(ws, rt, p, received_ago: timedelta, **kw) -> Order:
    order = Order(
        wholesaler_id=ws.id, retailer_id=rt.id, partnership_id=p.id, remote_order_id=f"gid://o/{kw.get('name', 1)}",
        retailer_order_name=kw.pop("name", "#1001"), received_at=utcnow() - received_ago, **kw,
    )  # fmt: skip
    db.session.add(order)
    db.session.commit()
    return order


def test_a_job_failed_for_good_is_emailed_once_to_the_wholesalers_people_and_the_operator(app, inbox):
    user, ws, sor, _rt, _store, _p = factories.trading_pair()
    operator = create_user("ops@example.com", factories.PASSWORD, role="operator")
    _failed_run(ws, f"connection:{sor.id}")
    result = alerts.scan(ws.id)
    assert result["new"] == 1 and result["sent"] == 2
    assert len(inbox.to(user.email)) == 1 and len(inbox.to(operator.email)) == 1
    body = inbox.to(user.email)[0].get_content()
    assert "orders.push" in body and "boom" in body and "/alerts/settings" in body

    later = utcnow() + alerts.MIN_GAP * 2
    assert alerts.scan(ws.id, later)["new"] == 0
    assert len(inbox.messages) == 2  # the same failure is not news again


def test_a_run_still_retrying_or_followed_by_a_success_is_not_alerted(app, inbox):
    _user, ws, sor, *_ = factories.trading_pair()
    _failed_run(ws, f"connection:{sor.id}", status="queued", when=None)
    _failed_run(ws, f"connection:{sor.id}", job="inventory.pull", when=utcnow() - timedelta(minutes=5))
    _failed_run(ws, f"connection:{sor.id}", job="inventory.pull", status="done", message=None)
    assert alerts.scan(ws.id)["open"] == 0
    assert inbox.messages == []


def test_an_alert_resolves_when_the_problem_goes_and_is_news_again_when_it_comes_back(app, inbox):
    user, ws, sor, *_ = factories.trading_pair()
    target = f"connection:{sor.id}"
    _failed_run(ws, target, when=utcnow() - timedelta(minutes=30))
    alerts.scan(ws.id)
    _failed_run(ws, target, status="done", message=None, when=utcnow() - timedelta(minutes=20))
    assert alerts.scan(ws.id, utcnow() + alerts.MIN_GAP * 2)["resolved"] == 1
    _failed_run(ws, target, when=utcnow() - timedelta(minutes=1))
    result = alerts.scan(ws.id, utcnow() + alerts.MIN_GAP * 4)
    assert result["new"] == 1 and result["sent"] == 1
    assert len(inbox.to(user.email)) == 2


def test_an_order_past_its_two_hour_promise_is_alerted_and_one_sent_in_time_is_not(app, inbox):
    user, ws, _sor, rt, _store, p = factories.trading_pair()
    late = _order(ws, rt, p, timedelta(hours=2, minutes=5), name="#1001")
    _order(ws, rt, p, timedelta(hours=3), name="#1002", sent_to_sor_at=utcnow() - timedelta(hours=2), status="sent")
    _order(ws, rt, p, timedelta(hours=1), name="#1003")  # still within the promise
    _order(ws, rt, p, timedelta(hours=5), name="#1004", cancelled_at=utcnow(), status="cancelled")
    alerts.scan(ws.id)
    subjects = {a.subject for a in db.session.query(Alert).all()}
    assert subjects == {f"order:{late.id}"}
    body = inbox.to(user.email)[0].get_content()
    assert "#1001" in body and f"/orders/{late.id}" in body


def test_a_record_is_alerted_only_once_it_reaches_its_attempt_limit(app, inbox):
    user, ws, sor, *_ = factories.trading_pair()
    row = RecordFailure(
        job_name="orders.pull", target_key=f"connection:{sor.id}", organization_id=ws.id, record_key="gid://o/9",
        label="#1009", attempts=RecordFailure.FAILED_AFTER - 1, last_error="422 invalid address",
    )  # fmt: skip
    db.session.add(row)
    db.session.commit()
    assert alerts.scan(ws.id)["open"] == 0
    row.attempts = RecordFailure.FAILED_AFTER
    db.session.commit()
    assert alerts.scan(ws.id, utcnow() + alerts.MIN_GAP * 2)["new"] == 1
    assert "#1009" in inbox.to(user.email)[0].get_content()


def test_lost_store_access_gateway_refusal_and_failed_payment_are_each_alerted(app, inbox):
    user, ws, sor, rt, store, p = factories.trading_pair()
    store.status = "uninstalled"
    sor.status = "needs_reauth"
    db.session.add(
        Invoice(
            partnership_id=p.id, wholesaler_id=ws.id, retailer_id=rt.id, billing_date=utcnow().date(),
            status="payment_failed", total=Decimal("42.50"), last_error="Card declined: insufficient funds",
        )
    )  # fmt: skip
    db.session.commit()
    _failed_run(ws, f"partnership:{p.id}", job="billing.run", message="Attempt 3 failed: AuthenticationError: bad key.")
    alerts.scan(ws.id)
    kinds = sorted(a.kind for a in db.session.query(Alert).all())
    assert kinds == ["gateway_access", "payment_failed", "store_access", "store_access"]
    [message] = inbox.to(user.email)  # four alerts, one e-mail
    body = message.get_content()
    assert "uninstalled" in body and "reconnected" in body and "42.50" in body and "insufficient funds" in body


def test_alerts_are_rate_limited_per_organization_and_wait_for_the_next_e_mail(app, inbox):
    user, ws, sor, *_ = factories.trading_pair()
    now = utcnow()
    _failed_run(ws, f"connection:{sor.id}", job="orders.push")
    alerts.scan(ws.id, now)
    _failed_run(ws, f"connection:{sor.id}", job="inventory.pull")
    held = alerts.scan(ws.id, now + timedelta(minutes=1))
    assert held["new"] == 1 and held["sent"] == 0 and held["reason"] == "rate limited"
    assert alerts.scan(ws.id, now + alerts.MIN_GAP + timedelta(minutes=1))["sent"] == 1
    assert [("inventory.pull" in m.get_content()) for m in inbox.to(user.email)] == [False, True]


def test_an_alert_still_open_is_emailed_again_after_a_day_not_before(app, inbox):
    _user, ws, sor, *_ = factories.trading_pair()
    now = utcnow()
    _failed_run(ws, f"connection:{sor.id}")
    alerts.scan(ws.id, now)
    assert alerts.scan(ws.id, now + timedelta(hours=12))["sent"] == 0
    assert alerts.scan(ws.id, now + alerts.REPEAT_AFTER + timedelta(minutes=1))["sent"] == 1
    assert db.session.query(Alert).one().times_notified == 2


def test_two_scans_at_once_email_an_alert_once(app, inbox):
    _user, ws, sor, *_ = factories.trading_pair()
    now = utcnow()
    _failed_run(ws, f"connection:{sor.id}")
    alerts.record(ws.id, alerts.detect(ws.id, now), now)
    due = db.session.query(Alert).all()
    assert len(alerts._claim(due, now)) == 1
    assert alerts._claim(due, now) == []  # the second scan finds it claimed


def test_muted_kinds_and_digest_only_people_get_the_daily_digest_once_a_day(app, inbox):
    user, ws, _sor, rt, _store, p = factories.trading_pair()
    alerts.save_settings(user, immediate=True, daily_digest=True, muted=["order_late"])
    _order(ws, rt, p, timedelta(hours=3), name="#2001")
    now = utcnow()
    result = alerts.scan(ws.id, now)
    assert result["sent"] == 0  # the only alert is of a muted kind
    assert result["digests"] == 0  # the first digest is due a day after the settings were saved
    setting = alerts.setting_for(user)
    setting.digest_sent_at = now - alerts.DIGEST_EVERY
    db.session.commit()
    assert alerts.send_digests(ws.id, now + timedelta(minutes=1)) == 1
    assert alerts.send_digests(ws.id, now + timedelta(hours=2)) == 0
    [digest] = inbox.to(user.email)
    assert "Daily digest" in digest["Subject"] and "#2001" in digest.get_content()


def test_nothing_is_claimed_when_mail_is_not_configured(app):
    app.config["MAIL_SERVER"] = ""
    _user, ws, sor, *_ = factories.trading_pair()
    _failed_run(ws, f"connection:{sor.id}")
    assert alerts.scan(ws.id)["reason"] == "mail is not configured"
    assert db.session.query(Alert).one().notified_at is None  # e-mailed once mail works
