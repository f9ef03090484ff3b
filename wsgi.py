"""WSGI entry point for gunicorn and the Flask CLI."""

from portal import create_app

app = create_app()
