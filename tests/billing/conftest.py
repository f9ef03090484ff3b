"""Billing fixtures: the Stripe and Apruve fakes on real local HTTP ports."""

from __future__ import annotations

import secrets

import pytest

from fakes.apruve import FakeApruve
from fakes.stripe import FakeStripe
from fakes.stripe.app import serve_in_thread


@pytest.fixture
def fake_stripe(app):
    fake = FakeStripe(webhook_secret="whsec_test_" + secrets.token_hex(8))
    url, stop = serve_in_thread(fake)
    app.config.update(STRIPE_API_BASE=url, STRIPE_WEBHOOK_SECRET=fake.webhook_secret, STRIPE_TIMEOUT_SECONDS=2)
    fake.url = url
    yield fake
    stop()


@pytest.fixture
def fake_apruve(app):
    fake = FakeApruve()
    url, stop = serve_in_thread(fake)
    app.config.update(APRUVE_API_BASE=url + "/api/v4", APRUVE_WEBHOOK_SECRET=fake.webhook_secret)
    fake.url = url
    yield fake
    stop()
