"""Invitations that arrive: the e-mail carries a link that installs the Shopify app (or opens the sign-up) with
the code, the installed app offers the invitation without typing, and the wholesaler resends or revokes it."""

from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

from sqlalchemy import select

from portal.extensions import db
from portal.models import Partnership, utcnow
from portal.services import invitations
from tests.conftest import csrf_token
from tests.shopify_app.conftest import session_token
from tests.support import factories


def _invite(client, auth, email="buyer@shop.example"):
    user = factories.wholesaler(name="Acme Wholesale")
    auth.login(user.email)
    response = client.post(
        "/partners/invite", data={"email": email, "csrf_token": auth.token("/partners/")}, follow_redirects=True
    )
    partnership = db.session.execute(select(Partnership).where(Partnership.invite_email == email)).scalar_one()
    return user, partnership, response.get_data(as_text=True)


def _link(message) -> str:
    return re.search(r"(http\S+/join/\S+)", message.get_content()).group(1)


def test_inviting_a_retailer_emails_a_link_that_carries_the_code(client, auth, inbox):
    _user, partnership, page = _invite(client, auth)
    assert "Invitation sent to buyer@shop.example" in page
    [message] = inbox.to("buyer@shop.example")
    assert "Acme Wholesale invites you" in message["Subject"]
    assert _link(message).endswith(f"/join/{partnership.invite_code}")
    assert f"/retailers/signup?code={partnership.invite_code}" in message.get_content()


def test_without_a_mail_server_the_wholesaler_is_told_and_given_the_link(client, auth, app):
    app.config["MAIL_SERVER"] = ""
    _user, partnership, page = _invite(client, auth)
    assert "not sent: e-mail is not configured" in page and f"/join/{partnership.invite_code}" in page
    assert partnership.status == "invited"


def test_the_link_sends_a_shopify_retailer_to_the_install_page_and_remembers_the_code_for_its_shop(
    client, auth, inbox, app
):
    _user, partnership, _page = _invite(client, auth)
    path = urlsplit(_link(inbox.messages[0])).path
    client.post("/logout", data={"csrf_token": auth.token()})
    page = client.get(path).get_data(as_text=True)
    assert "Acme Wholesale invites you" in page and f"/retailers/signup?code={partnership.invite_code}" in page
    token = csrf_token(page)

    app.config["SHOPIFY_ADMIN_BASE_URL"] = ""
    response = client.post(f"{path}/shopify", data={"shop": "corner-shop", "csrf_token": token})
    assert response.status_code == 302
    target = urlsplit(response.headers["Location"])
    assert (target.netloc, target.path) == ("corner-shop.myshopify.com", "/admin/oauth/install")
    assert parse_qs(target.query) == {"client_id": [app.config["SHOPIFY_API_KEY"]]}
    assert invitations.pending_for_shop("corner-shop.myshopify.com")[0].id == partnership.id

    app.config["SHOPIFY_ADMIN_BASE_URL"] = "http://127.0.0.1:5001"  # under make run: the sandbox admin's app page
    response = client.post(f"{path}/shopify", data={"shop": "corner-shop.myshopify.com", "csrf_token": token})
    assert (
        response.headers["Location"] == "http://127.0.0.1:5001/_sandbox/admin/corner-shop.myshopify.com/apps/wholesync"
    )

    refused = client.post(f"{path}/shopify", data={"shop": "evil.example.com", "csrf_token": token})
    assert refused.status_code == 400


def test_the_installed_app_offers_the_invitation_and_one_click_accepts_it(client, app):
    ws_user = factories.wholesaler(name="Acme Wholesale")
    partnership = Partnership(
        wholesaler_id=ws_user.organization_id, invite_email="b@x.example", invite_code="code-abc", status="invited"
    )
    db.session.add(partnership)
    retailer = factories.retailer()
    store = factories.connection(retailer, "store", shop="corner-shop.myshopify.com")
    store.token_expires_at = utcnow() + timedelta(hours=1)
    db.session.commit()
    invitations.remember_for_shop(store.address, "code-abc")
    headers = {"Authorization": f"Bearer {session_token(app, store.address)}", "HX-Request": "1"}

    page = client.get("/shopify/partners", headers=headers).get_data(as_text=True)
    assert "Acme Wholesale invited you" in page and 'value="code-abc"' in page
    accepted = client.post("/shopify/partners/accept", data={"code": "code-abc"}, headers=headers)
    assert accepted.status_code == 200
    db.session.refresh(partnership)
    assert (partnership.status, partnership.retailer_id) == ("active", retailer.id)
    assert invitations.pending_for_shop(store.address) is None
    assert "invited you" not in client.get("/shopify/partners", headers=headers).get_data(as_text=True)


def test_resend_sends_the_same_code_again_and_revoke_makes_the_link_and_code_useless(client, auth, inbox):
    _user, partnership, _page = _invite(client, auth)
    code = partnership.invite_code
    token = auth.token(f"/partners/{partnership.id}")
    client.post(f"/partners/{partnership.id}/resend", data={"csrf_token": token})
    assert [_link(m) for m in inbox.to("buyer@shop.example")] == [_link(inbox.messages[0])] * 2

    client.post(f"/partners/{partnership.id}/revoke", data={"csrf_token": token})
    db.session.refresh(partnership)
    assert partnership.status == "ended"
    assert client.get(f"/join/{code}").status_code == 404
    page = client.post(f"/partners/{partnership.id}/resend", data={"csrf_token": token}, follow_redirects=True)
    assert "already accepted or revoked" in page.get_data(as_text=True)
    assert len(inbox.to("buyer@shop.example")) == 2


def test_another_wholesaler_cannot_resend_or_revoke(client, auth, inbox):
    _user, partnership, _page = _invite(client, auth)
    client.post("/logout", data={"csrf_token": auth.token()})
    intruder = factories.wholesaler()
    auth.login(intruder.email)
    token = auth.token("/partners/")
    assert client.post(f"/partners/{partnership.id}/revoke", data={"csrf_token": token}).status_code == 404
    assert client.post(f"/partners/{partnership.id}/resend", data={"csrf_token": token}).status_code == 404
    db.session.refresh(partnership)
    assert partnership.status == "invited" and len(inbox.messages) == 1
