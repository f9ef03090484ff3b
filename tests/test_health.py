import socket

from portal import create_app


def test_healthz_reports_database_and_redis_ok(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "database": "ok", "redis": "ok"}


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_healthz_is_503_and_names_redis_when_redis_is_down(services, tmp_path, _schema):
    app = create_app({"SQLALCHEMY_DATABASE_URI": services.database_url, "INSTANCE_PATH": str(tmp_path),
                      "REDIS_URL": f"redis://127.0.0.1:{_closed_port()}/0"})  # fmt: skip
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    body = response.get_json()
    assert body["status"] == "down" and body["database"] == "ok" and body["redis"].startswith("down")


def test_healthz_is_503_and_names_the_database_when_it_is_unreachable(services, tmp_path):
    url = f"postgresql+psycopg://nobody@127.0.0.1:{_closed_port()}/none?connect_timeout=1"
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "INSTANCE_PATH": str(tmp_path), "REDIS_URL": services.redis_url})
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.get_json()["database"].startswith("down") and response.get_json()["redis"] == "ok"
