"""Monthly statements: a partnership set to monthly gets one invoice on the month's last day with everything
shipped and unbilled that month, and no daily invoices in between; daily stays the default."""

from datetime import timedelta
from decimal import Decimal

from portal.extensions import db
from portal.models import Partnership
from portal.services import billing as service
from portal.services.billing.ledger import is_statement_day
from tests.billing.helpers import at, billing_pair, days_ago, shipped_order
from tests.conftest import csrf_token


def _last_month_end():
    return days_ago(0).replace(day=1) - timedelta(days=1)


def test_daily_invoices_are_the_default(app):
    _, _, _, p = billing_pair(since_days=70)
    assert db.session.get(Partnership, p.id).invoice_period == "daily"
    assert is_statement_day(p, _last_month_end() - timedelta(days=3))


def test_a_monthly_partnership_is_billed_once_on_the_months_last_day_with_the_whole_month(app):
    _, _, _, p = billing_pair(since_days=70, invoice_period="monthly")
    end = _last_month_end()
    first, middle = end.replace(day=1), end.replace(day=10)
    shipped_order(p, [("A", 2, "10.00")], at(first, 9))
    shipped_order(p, [("B", 1, "5.50")], at(middle, 9))
    days = service.dates_to_bill(p, end)
    assert days and all((d + timedelta(days=1)).day == 1 for d in days)
    assert service.dates_to_bill(p, end - timedelta(days=1)) == [d for d in days if d < end]
    statement = service.claim(p, end)
    assert statement.total == Decimal("25.50") and statement.billing_date == end
    assert sorted(x.amount for x in statement.lines) == [Decimal("5.50"), Decimal("20.00")]


def test_the_partner_page_switches_a_partnership_to_a_monthly_statement(client, signed_in, world):
    url = f"/partners/{world.partnership.id}"
    html = client.get(url).get_data(as_text=True)
    assert 'name="invoice_period"' in html
    data = {"csrf_token": csrf_token(html), "stock_buffer": "0", "hold_minutes": "0", "invoice_period": "monthly"}
    assert client.post(url, data=data).status_code == 302
    db.session.refresh(world.partnership)
    assert world.partnership.invoice_period == "monthly"
    data["invoice_period"] = "weekly"
    client.post(url, data=data)
    db.session.refresh(world.partnership)
    assert world.partnership.invoice_period == "monthly"
