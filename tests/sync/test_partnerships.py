"""Partnerships: invite by code, accept once, status transitions, toggles, force overwrite and buffer."""

import json
import re

import pytest

from portal.models import SYNC_TOGGLES
from portal.services import partnerships as service
from tests.support import factories


def test_invite_then_accept_by_code_activates_the_partnership(app):
    ws = factories.wholesaler().organization
    rt = factories.retailer()
    invited = service.invite(ws.id, "buyer@example.com")
    assert invited.status == "invited" and len(invited.invite_code) >= 16
    accepted = service.accept(invited.invite_code, rt.id)
    assert (accepted.status, accepted.retailer_id) == ("active", rt.id)
    assert accepted.accepted_at is not None


def test_a_code_cannot_be_used_twice(app):
    ws = factories.wholesaler().organization
    invited = service.invite(ws.id)
    service.accept(invited.invite_code, factories.retailer().id)
    with pytest.raises(service.PartnershipError, match="already used"):
        service.accept(invited.invite_code, factories.retailer().id)


def test_a_wholesaler_cannot_accept_an_invitation(app):
    ws = factories.wholesaler().organization
    other = factories.wholesaler().organization
    invited = service.invite(ws.id)
    with pytest.raises(service.PartnershipError, match="only a retailer"):
        service.accept(invited.invite_code, other.id)


def test_status_transitions_are_checked(app):
    *_, p = factories.trading_pair()
    assert service.set_status(p.id, "paused").status == "paused"
    assert service.set_status(p.id, "active").status == "active"
    assert service.set_status(p.id, "ended").status == "ended"
    with pytest.raises(service.PartnershipError, match="cannot become active"):
        service.set_status(p.id, "active")


def test_each_of_the_eight_toggles_can_be_switched(app):
    *_, p = factories.trading_pair()
    assert len(SYNC_TOGGLES) == 8
    for toggle in SYNC_TOGGLES:
        assert getattr(service.set_toggle(p.id, toggle, False), toggle) is False
    with pytest.raises(service.PartnershipError, match="unknown toggle"):
        service.set_toggle(p.id, "sync_everything", True)


def test_force_overwrite_and_buffer(app):
    *_, p = factories.trading_pair()
    assert service.set_force_overwrite(p.id, True).force_overwrite is True
    assert service.set_stock_buffer(p.id, 3).stock_buffer == 3
    with pytest.raises(service.PartnershipError):
        service.set_stock_buffer(p.id, -1)


def test_cli_invite_accept_and_toggle(app, runner):
    ws = factories.wholesaler().organization
    rt = factories.retailer()
    out = runner.invoke(args=["partners", "invite", str(ws.id), "--email", "b@example.com"])
    assert out.exit_code == 0, out.output
    code = json.loads(out.output)["invite_code"]
    out = runner.invoke(args=["partners", "accept", code, str(rt.id)])
    data = json.loads(out.output)
    assert data["status"] == "active" and data["retailer_id"] == rt.id
    out = runner.invoke(args=["partners", "toggle", str(data["id"]), "sync_orders_from_retailer", "off"])
    assert json.loads(out.output)["sync_orders_from_retailer"] is False
    out = runner.invoke(args=["partners", "accept", code, str(rt.id)])
    assert out.exit_code != 0 and "already used" in out.output


def test_invitation_codes_are_unguessable_letters_and_digits_that_a_command_line_never_reads_as_an_option():
    codes = {service.new_invite_code() for _ in range(2000)}
    assert len(codes) == 2000
    assert all(re.fullmatch(r"[0-9a-f]{24}", code) for code in codes)  # 96 bits; no "-" to start, nothing to escape
