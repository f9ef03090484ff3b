from pathlib import Path

import pytest

from portal.config import database_url, load_config


def test_database_url_defaults_to_sqlite_under_instance(tmp_path):
    assert database_url(None, tmp_path) == f"sqlite:///{tmp_path / 'wholesync.sqlite'}"


def test_heroku_postgres_url_gets_the_psycopg3_driver():
    assert database_url("postgres://u:p@h:5432/db", Path(".")) == "postgresql+psycopg://u:p@h:5432/db"
    assert database_url("postgresql://u@h/db", Path(".")) == "postgresql+psycopg://u@h/db"


def test_production_refuses_to_start_without_secrets_from_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("WHOLESYNC_ENV", "production")
    monkeypatch.delenv("SECRET_KEY", raising=False)
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        load_config(tmp_path)


def test_laptop_secrets_are_generated_once_and_kept(monkeypatch, tmp_path):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.delenv("TOKEN_ENCRYPTION_KEYS", raising=False)
    first, second = load_config(tmp_path), load_config(tmp_path)
    assert first["SECRET_KEY"] == second["SECRET_KEY"] and len(first["SECRET_KEY"]) == 64
    assert first["TOKEN_ENCRYPTION_KEYS"] == second["TOKEN_ENCRYPTION_KEYS"]
