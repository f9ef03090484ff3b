from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from portal.extensions import db
from portal.models import Organization, User
from tests.conftest import csrf_token
from tests.support import factories


def test_signup_creates_a_wholesaler_organization_and_signs_in(client):
    token = csrf_token(client.get("/signup").get_data(as_text=True))
    form = {
        "organization": "Acme Supply",
        "email": "Boss@Acme.example.com",
        "password": "long enough pw",
        "csrf_token": token,
    }
    response = client.post("/signup", data=form)
    assert response.status_code == 302 and response.headers["Location"].endswith("/dashboard")
    user = db.session.execute(select(User).where(User.email == "boss@acme.example.com")).scalar_one()
    assert user.organization.kind == "wholesaler" and user.organization.name == "Acme Supply"
    assert user.password_hash.startswith("$argon2id$")
    assert client.get("/dashboard").status_code == 200


def test_login_with_the_right_password_reaches_the_dashboard(client, auth, app):
    user = factories.wholesaler()
    response = auth.login(user.email)
    assert response.status_code == 302 and response.headers["Location"].endswith("/dashboard")
    assert user.organization.name in client.get("/dashboard").get_data(as_text=True)


def test_wrong_password_is_refused_with_401_and_a_clear_message(client, auth, app):
    user = factories.wholesaler()
    response = auth.login(user.email, "not the password")
    assert response.status_code == 401
    assert "Wrong e-mail address or password" in response.get_data(as_text=True)
    assert client.get("/dashboard").status_code == 302


def test_login_without_csrf_token_is_a_400_with_an_explanation(client, app):
    user = factories.wholesaler()
    response = client.post("/login", data={"email": user.email, "password": factories.PASSWORD})
    assert response.status_code == 400
    assert "form expired" in response.get_data(as_text=True)


def test_logout_needs_post_with_csrf_and_ends_the_session(client, auth, app):
    user = factories.wholesaler()
    auth.login(user.email)
    assert client.post("/logout").status_code == 400  # no CSRF token
    assert client.post("/logout", data={"csrf_token": auth.token()}).status_code == 302
    assert client.get("/dashboard").status_code == 302


def test_repeated_bad_logins_for_one_email_are_throttled_with_429(client, auth, app):
    user = factories.wholesaler()
    statuses = [auth.login(user.email, "wrong").status_code for _ in range(6)]
    assert statuses[:5] == [401] * 5 and statuses[5] == 429
    # throttled even with the right password now: guessing is what the limit stops
    assert auth.login(user.email).status_code == 429


def test_bad_logins_from_one_ip_are_throttled_across_emails(client, auth, app):
    app.config["LOGIN_LIMIT_PER_IP"] = "3 per minute"
    statuses = [auth.login(f"nobody{i}@example.com", "wrong").status_code for i in range(4)]
    assert statuses == [401, 401, 401, 429]


def test_session_cookie_is_secure_httponly_and_samesite(client, auth, app):
    user = factories.wholesaler()
    response = auth.login(user.email)
    cookie = response.headers["Set-Cookie"]
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_dashboard_pages_forbid_framing(client):
    assert client.get("/login").headers["Content-Security-Policy"] == "frame-ancestors 'none'"


def test_signup_with_an_existing_email_is_refused_and_creates_nothing(client, app):
    user = factories.wholesaler()
    orgs_before = db.session.query(Organization).count()
    token = csrf_token(client.get("/signup").get_data(as_text=True))
    form = {"organization": "Copycat", "email": user.email.upper(), "password": "long enough pw", "csrf_token": token}
    response = client.post("/signup", data=form)
    assert response.status_code == 400 and "already exists" in response.get_data(as_text=True)
    assert db.session.query(Organization).count() == orgs_before


def test_users_create_command_makes_an_operator(runner, app):
    result = runner.invoke(args=["users", "create", "ops@wholesync.test", "--operator", "--password", "operator pw 1"])
    assert result.exit_code == 0, result.output
    user = db.session.execute(select(User).where(User.email == "ops@wholesync.test")).scalar_one()
    assert user.role == "operator" and user.organization_id is None


def test_a_database_too_busy_to_stamp_the_login_time_still_signs_the_user_in(client, auth, monkeypatch):
    user = factories.wholesaler()
    real_commit = db.session.commit

    def busy_once():
        monkeypatch.setattr(db.session, "commit", real_commit)
        raise OperationalError("UPDATE user SET last_login_at=?", {}, Exception("database is locked"))

    monkeypatch.setattr(db.session, "commit", busy_once)  # the commit of the time stamp meets SQLite's busy writer
    response = auth.login(user.email)
    assert response.status_code == 302 and response.headers["Location"].endswith("/dashboard")
    assert user.organization.name in client.get("/dashboard").get_data(as_text=True)
