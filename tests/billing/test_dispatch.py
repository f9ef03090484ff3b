"""The hourly billing tick: per-day job ids, double schedulers, and days missed while the scheduler was down."""

import threading
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal

from jobs.runtime import dispatch
from jobs.worker import make_worker
from portal.extensions import db
from tests.billing.helpers import at, billing_pair, charges, days_ago, invoices_of, shipped_order, stripe_invoices

HOUR = 3600


def _slot(moment: datetime) -> int:
    return int(moment.timestamp()) // HOUR


def _work(app):
    make_worker(app).work(burst=True)
    db.session.expire_all()


def test_nothing_is_enqueued_before_the_wholesalers_billing_time_and_one_job_after(app, fake_stripe):
    _, _, _, p = billing_pair(fake_stripe, tz="Asia/Tokyo", billing_time=time(6, 0))
    day = days_ago(2)
    # 05:00 Tokyo is 20:00 UTC the day before; 06:00 Tokyo is 21:00 UTC.
    before = datetime.combine(day - timedelta(days=1), time(20, 0), tzinfo=UTC)
    enqueued_before = dispatch("billing.run", _slot(before))
    assert all(not job.endswith(day.isoformat().replace("-", "_")) for job in enqueued_before)
    after = datetime.combine(day - timedelta(days=1), time(21, 0), tzinfo=UTC)
    assert dispatch("billing.run", _slot(after)) == [
        f"billing_run-partnership_{p.id}-{day.isoformat().replace('-', '_')}"
    ]
    assert dispatch("billing.run", _slot(after) + 1) == []  # the next hourly tick: same day, same id, refused


def test_two_schedulers_firing_together_bill_each_retailer_once(app, fake_stripe):
    _, _, _, p1 = billing_pair(fake_stripe)
    _, _, _, p2 = billing_pair(fake_stripe)
    for p in (p1, p2):
        shipped_order(p, [("A", 1, "10.00")], at(days_ago(3), 9))
    slot = _slot(at(days_ago(2), 7))
    results, barrier = [], threading.Barrier(2)

    def scheduler():
        with app.app_context():
            barrier.wait()
            results.append(dispatch("billing.run", slot))

    threads = [threading.Thread(target=scheduler) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(len(r) for r in results) in ([0, 2], [1, 1])  # each day's job was enqueued exactly once overall
    assert len({job for r in results for job in r}) == 2
    _work(app)
    assert [len(invoices_of(p)) for p in (p1, p2)] == [1, 1]
    assert len(stripe_invoices(fake_stripe)) == 2 and len(charges(fake_stripe)) == 2


def test_days_missed_while_the_scheduler_was_down_are_each_billed_once_when_it_comes_back(app, fake_stripe):
    _, _, _, p = billing_pair(fake_stripe, since_days=8)
    d1, d2, d3 = days_ago(4), days_ago(3), days_ago(2)
    shipped_order(p, [("A", 1, "1.00")], at(d1, 3))  # before d1's 06:00 cut-off
    shipped_order(p, [("B", 1, "2.00")], at(d1, 12))  # d2's
    shipped_order(p, [("C", 1, "4.00")], at(d2, 12))  # d3's
    assert dispatch("billing.run", _slot(at(days_ago(5), 7))) != []  # the day before: nothing shipped yet
    _work(app)
    assert invoices_of(p) == []
    # The scheduler is down from then until d3 09:00, across three billing times.
    assert len(dispatch("billing.run", _slot(at(d3, 9)))) == 1
    _work(app)
    assert [(i.billing_date, i.total, i.status) for i in invoices_of(p)] == [
        (d1, Decimal("1.00"), "paid"),
        (d2, Decimal("2.00"), "paid"),
        (d3, Decimal("4.00"), "paid"),
    ]
    assert dispatch("billing.run", _slot(at(d3, 10))) == []  # back on schedule: nothing billed twice
    assert dispatch("billing.run", _slot(at(d3, 10)) + 24) != []  # the next day is a new job
    _work(app)
    assert len(invoices_of(p)) == 3 and len(charges(fake_stripe)) == 3


def test_partnerships_with_billing_off_or_paused_are_never_enqueued(app, fake_stripe):
    _, _, _, off = billing_pair(fake_stripe, billing_enabled=False)
    _, _, _, paused = billing_pair(fake_stripe, status="paused")
    for p in (off, paused):
        shipped_order(p, [("A", 1, "10.00")], at(days_ago(3), 9))
    assert dispatch("billing.run", _slot(at(days_ago(2), 7))) == []


def test_a_partnership_without_a_connected_gateway_is_reported_not_billed_and_not_retried(app, fake_stripe):
    from portal.models import GatewayAccount, SyncRun

    _, _, _, p = billing_pair(fake_stripe)
    db.session.query(GatewayAccount).delete()
    db.session.commit()
    shipped_order(p, [("A", 1, "10.00")], at(days_ago(3), 9))
    assert len(dispatch("billing.run", _slot(at(days_ago(2), 7)))) == 1
    _work(app)
    run = db.session.query(SyncRun).filter_by(job_name="billing.run").one()
    # Reported, not retried by RQ (one attempt), and never "done": a run with failed records says so.
    assert (run.status, run.attempts, run.failed) == ("done_with_failures", 1, run.total)
    assert "no stripe gateway connected" in run.failures[0]["reason"]
    assert invoices_of(p) == []


def test_two_workers_claiming_the_same_day_at_once_make_one_invoice_and_bill_each_unit_once(app, fake_stripe):
    from portal.models import OrderLine, Partnership
    from portal.services import billing as service

    _, _, _, p = billing_pair(fake_stripe)
    shipped_order(p, [("A", 5, "3.00"), ("B", 1, "1.00")], at(days_ago(3), 9))
    ids, errors, barrier = [], [], threading.Barrier(2, timeout=30)
    partnership_id = p.id  # read here: the main thread's ORM objects must not be touched from the worker threads
    db.session.commit()  # and hold no transaction open while they write

    def worker():
        with app.app_context():
            partnership = db.session.get(Partnership, partnership_id)
            barrier.wait()
            try:
                invoice = service.claim(partnership, days_ago(2))
                ids.append(invoice.id)
            except service.LineClaimConflict as exc:  # the loser may also see the lines move under it
                errors.append(exc)
            except Exception as exc:  # SQLite serialises writers: "database is locked" is a lost race, not a bill
                errors.append(exc)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert len(set(ids)) == 1 and len(ids) + len(errors) == 2
    (invoice,) = invoices_of(p)
    assert invoice.total == Decimal("16.00")
    assert sorted(line.billed_quantity for line in db.session.query(OrderLine)) == [1, 5]


def test_a_day_whose_job_failed_for_good_is_finished_by_the_next_days_job_25_hours_later(app, fake_stripe):
    from portal.models import SyncRun

    app.config["STRIPE_MAX_NETWORK_RETRIES"] = 0
    _, _, _, p = billing_pair(fake_stripe)
    d1, d2 = days_ago(2), days_ago(1)
    shipped_order(p, [("A", 1, "10.00")], at(d1, 3))
    fake_stripe.inject("POST", r"/v1/invoices/in_\w+/pay", "500", times=3)  # every attempt of d1's job fails
    dispatch("billing.run", _slot(at(d1, 7)))
    _work(app)
    assert db.session.query(SyncRun).one().status == "failed"
    (stuck,) = invoices_of(p)
    assert stuck.status == "claimed" and "finalized" in stuck.steps
    fake_stripe.advance(25 * 3600)  # Stripe has pruned the keys of d1's attempts
    stuck.created_at -= timedelta(hours=25)
    db.session.commit()
    shipped_order(p, [("B", 1, "5.00")], at(d1, 12))
    assert len(dispatch("billing.run", _slot(at(d2, 7)))) == 1
    _work(app)
    assert [(i.billing_date, i.total, i.status) for i in invoices_of(p)] == [
        (d1, Decimal("10.00"), "paid"),
        (d2, Decimal("5.00"), "paid"),
    ]
    assert len(stripe_invoices(fake_stripe)) == 2 and len(charges(fake_stripe)) == 2
