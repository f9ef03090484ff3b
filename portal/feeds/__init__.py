"""A wholesaler's file feed: its SFTP or HTTPS connection settings, folders, column mapping and a catalog preview."""

from flask import Blueprint

bp = Blueprint("feeds", __name__, url_prefix="/feeds")

from portal.feeds import views  # noqa: E402,F401
