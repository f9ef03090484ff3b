"""The Stripe fake's webhook deliveries behave as Stripe's: an endpoint that calls the API back while it handles an
event is answered (the API is not held up by the delivery), and an event the endpoint did not acknowledge with a
2xx is delivered again.

The chaos soak found two retailers' saved cards never made the invoice default (their first invoices ended
`payment_failed`): the fake held its lock while it posted `checkout.session.completed`, so the hub's handler, which
reads the setup intent back, waited for the delivery to time out; and a refused delivery counted as delivered.
"""

from __future__ import annotations

import time

import httpx
from werkzeug.wrappers import Request, Response

from fakes.stripe import FakeStripe
from fakes.stripe.app import serve_in_thread


class Endpoint:
    """A webhook endpoint that reads the event's customer back from the API before it answers."""

    def __init__(self, statuses: list[int]):
        self.statuses = statuses  # answers to give, in order (the last one repeats)
        self.api_url = ""
        self.received: list[str] = []
        self.read_back: list[int] = []

    def __call__(self, environ, start_response):
        event = Request(environ).get_json()
        self.received.append(event["id"])
        customer = event["data"]["object"]["customer"]
        self.read_back.append(httpx.get(f"{self.api_url}/v1/customers/{customer}", timeout=30).status_code)
        status = self.statuses.pop(0) if len(self.statuses) > 1 else self.statuses[0]
        return Response("{}", status=status, content_type="application/json")(environ, start_response)


def _fake_posting_to(endpoint: Endpoint, auto_deliver: bool = False):
    endpoint_url, stop_endpoint = serve_in_thread(endpoint)
    fake = FakeStripe(webhook_url=endpoint_url, auto_deliver=auto_deliver)
    api_url, stop_fake = serve_in_thread(fake)
    endpoint.api_url = api_url

    def stop():
        stop_fake()
        stop_endpoint()

    return fake, stop


def _completed_checkout(fake: FakeStripe) -> dict:
    customer = fake.seed_customer(card=None)
    fake._event("checkout.session.completed", {"object": "checkout.session", "customer": customer})
    return fake.events[-1]


def _delivered(event: dict, bound: float = 30.0) -> bool:
    """Whether the fake marks `event` delivered within `bound` seconds (deliveries run on the fake's threads)."""
    deadline = time.monotonic() + bound
    while time.monotonic() < deadline:
        if event.get("_delivered"):
            return True
        time.sleep(0.05)
    return False


def test_an_endpoint_that_calls_the_api_back_while_handling_an_event_is_answered_and_the_event_delivered():
    endpoint = Endpoint([200])
    fake, stop = _fake_posting_to(endpoint, auto_deliver=True)
    try:
        event = _completed_checkout(fake)
        httpx.get(f"{endpoint.api_url}/v1/customers/{event['data']['object']['customer']}", timeout=30)
        assert _delivered(event)  # as any API call does, this one sent the event after answering
        assert endpoint.read_back == [200]
        assert endpoint.received == [event["id"]]
    finally:
        stop()


def test_an_event_the_endpoint_refused_is_delivered_again_until_it_is_acknowledged():
    endpoint = Endpoint([503, 200])
    fake, stop = _fake_posting_to(endpoint)
    try:
        _completed_checkout(fake)
        assert fake.deliver() == 0  # answered 503: Stripe keeps the event and retries it
        assert fake.deliver() == 1
        assert len(endpoint.received) == 2 and endpoint.received[0] == endpoint.received[1]
        assert fake.deliver() == 0
    finally:
        stop()


def test_saving_a_card_on_the_hosted_page_delivers_checkout_session_completed_without_another_api_call():
    """Stripe sends the event once the page is submitted; the fake sent it only with the next API request, so the
    soak's first billing call charged before the card became the default (declined: payment_failed)."""
    endpoint = Endpoint([200])
    fake, stop = _fake_posting_to(endpoint, auto_deliver=True)
    try:
        customer = fake.seed_customer(card=None)
        session = fake._create_session(
            {"mode": "setup", "customer": customer, "success_url": "http://shop/done", "cancel_url": "http://shop"},
            endpoint.api_url,
        )
        saved = httpx.post(session["url"], data={"number": "4242424242424242"})
        assert saved.status_code == 303
        (event,) = [e for e in fake.events if e["type"] == "checkout.session.completed"]
        assert _delivered(event)
        assert endpoint.received == [event["id"]]
    finally:
        stop()
