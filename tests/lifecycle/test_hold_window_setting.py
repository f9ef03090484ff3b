"""The hold window on the partner page: a wholesaler sets how many minutes an order waits before it goes to its
system (0 to a day); anything else is refused with a message and nothing on the form is saved."""

import pytest

from portal.extensions import db
from tests.conftest import csrf_token


def _post(client, world, **fields):
    url = f"/partners/{world.partnership.id}"
    html = client.get(url).get_data(as_text=True)
    data = {"csrf_token": csrf_token(html), "stock_buffer": "0"} | fields
    return client.post(url, data=data, follow_redirects=True).get_data(as_text=True)


def test_the_partner_page_shows_and_saves_the_hold_window(client, signed_in, world):
    html = client.get(f"/partners/{world.partnership.id}").get_data(as_text=True)
    assert 'name="hold_minutes"' in html
    _post(client, world, hold_minutes="2")
    db.session.refresh(world.partnership)
    assert world.partnership.hold_minutes == 2
    _post(client, world, hold_minutes="1440")
    db.session.refresh(world.partnership)
    assert world.partnership.hold_minutes == 1440


@pytest.mark.parametrize("typed", ["-1", "1441", "2.5", "two", "²", "1" * 40])
def test_a_hold_window_outside_0_to_1440_whole_minutes_is_refused_and_nothing_is_saved(client, signed_in, world, typed):
    page = _post(client, world, hold_minutes=typed, stock_buffer="7")
    db.session.refresh(world.partnership)
    assert world.partnership.hold_minutes == 0 and world.partnership.stock_buffer != 7
    assert "hold window must be a whole number of minutes from 0 to 1440" in page


@pytest.mark.parametrize("typed", ["-3", "9" * 40])
def test_a_stock_buffer_below_zero_or_beyond_any_store_is_refused_with_a_message(client, signed_in, world, typed):
    page = _post(client, world, stock_buffer=typed)
    db.session.refresh(world.partnership)
    assert world.partnership.stock_buffer == 0
    assert "the stock buffer is a whole number of units from 0 to 1000000" in page
