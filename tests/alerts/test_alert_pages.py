"""The alert pages: sign-in required, a person's own settings saved with CSRF, each organization sees its own."""

from __future__ import annotations

from datetime import timedelta

from portal.extensions import db
from portal.models import AlertSetting, SyncRun, utcnow
from portal.services import alerts
from tests.support import factories


def test_alert_settings_require_sign_in(client):
    assert client.get("/alerts/settings").status_code in (302, 401)
    assert client.post("/alerts/settings", data={"immediate": "on"}).status_code in (302, 400, 401)
    assert db.session.query(AlertSetting).count() == 0


def test_a_person_saves_their_own_alert_settings(client, auth):
    user = factories.wholesaler()
    other = factories.wholesaler()
    auth.login(user.email)
    page = client.get("/alerts/settings").get_data(as_text=True)
    assert user.email in page and "daily digest" in page
    token = auth.token("/alerts/settings")
    response = client.post(
        "/alerts/settings", data={"daily_digest": "on", "muted": ["order_late", "nonsense"], "csrf_token": token}
    )
    assert response.status_code == 302
    row = db.session.query(AlertSetting).filter_by(user_id=user.id).one()
    assert (row.immediate, row.daily_digest, row.muted_kinds) == (False, True, "order_late")
    assert db.session.query(AlertSetting).filter_by(user_id=other.id).count() == 0


def test_saving_settings_without_the_csrf_token_is_refused(client, auth):
    user = factories.wholesaler()
    auth.login(user.email)
    assert client.post("/alerts/settings", data={"daily_digest": "on"}).status_code == 400
    assert db.session.query(AlertSetting).filter_by(user_id=user.id, daily_digest=True).count() == 0


def test_each_wholesaler_sees_only_its_own_open_alerts(client, auth):
    mine, ws, sor, *_ = factories.trading_pair()
    _theirs, ws2, sor2, *_ = factories.trading_pair()
    for org, conn, job in ((ws, sor, "orders.push"), (ws2, sor2, "inventory.pull")):
        db.session.add(
            SyncRun(
                job_name=job, organization_id=org.id, target_key=f"connection:{conn.id}", trigger="schedule",
                status="failed", attempts=3, message="boom", finished_at=utcnow() - timedelta(minutes=1),
            )
        )  # fmt: skip
        db.session.commit()
        alerts.record(org.id, alerts.detect(org.id), utcnow())
    auth.login(mine.email)
    page = client.get("/alerts/").get_data(as_text=True)
    assert "orders.push" in page and "inventory.pull" not in page
