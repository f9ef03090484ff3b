"""Nothing can start billing by hand: every route with every method, every CLI command, and the job runtime refuse.

The walks are generated from `app.url_map` and `app.cli`, so a route or command added later is covered too.
"""

import click
import pytest
from rq.registry import FinishedJobRegistry, StartedJobRegistry
from sqlalchemy import select

from jobs.plan import ManualRunRefused
from jobs.runtime import queue, request_run, run_now
from portal.extensions import db
from portal.models import Invoice, SyncRun
from portal.models.base import Base
from tests.billing.helpers import at, billing_pair, days_ago, shipped_order, stripe_invoices
from tests.conftest import csrf_token

# Commands that only start a long-running or interactive process, or touch the schema: never billing, and invoking
# them would block the test or migrate its database. Each is still checked to exist, so a rename is noticed.
PROCESS_COMMANDS = {"run", "shell", "db"}
# Long-running commands with a one-shot flag: invoked with it.
ONE_SHOT = {"worker": ["--burst"], "scheduler": ["--reconcile-only"]}
FORM = {"job": "billing.run", "gateway": "stripe", "partnership_id": "1", "target": "partnership:1", "confirm": "1"}


def _billing_side_effects() -> dict:
    db.session.expire_all()
    billing = queue("billing")
    rq_ids = billing.job_ids + StartedJobRegistry(queue=billing).get_job_ids()
    rq_ids += FinishedJobRegistry(queue=billing).get_job_ids()
    return {
        "invoices": db.session.query(Invoice).count(),
        "billing_runs": db.session.query(SyncRun).filter_by(job_name="billing.run").count(),
        "billing_jobs": len(rq_ids),
    }


NONE = {"invoices": 0, "billing_runs": 0, "billing_jobs": 0}


@pytest.fixture
def ready_to_bill(app, fake_stripe):
    """A wholesaler whose retailer has shipped, unbilled orders and a card on file: billing would happen if asked."""
    user, _ws, _rt, p = billing_pair(fake_stripe)
    shipped_order(p, [("A", 2, "10.00")], at(days_ago(2), 9))
    return user, p


def _value_for(param: str, org_id: int) -> int:
    table = param.removesuffix("_id")
    for mapper in Base.registry.mappers:
        model = mapper.class_
        if mapper.local_table.name == table:
            query = select(model.id).order_by(model.id).limit(1)
            if hasattr(model, "owned_by"):
                query = select(model.id).where(model.owned_by(org_id)).order_by(model.id).limit(1)
            return db.session.execute(query).scalar_one_or_none() or 1
    return 1


def test_no_route_with_any_method_starts_billing(app, client, auth, fake_stripe, ready_to_bill):
    user, _p = ready_to_bill
    auth.login(user.email)
    token = csrf_token(client.get("/dashboard").get_data(as_text=True))
    called = 0
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        values = {arg: _value_for(arg, user.organization_id) for arg in rule.arguments}
        url = rule.build(values, append_unknown=False)[1]
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            try:
                client.open(url, method=method, data={**FORM, "csrf_token": token}, headers={"X-CSRFToken": token})
            except Exception:  # a route failing on nonsense input is not our concern here; billing side effects are
                db.session.rollback()
            called += 1
            assert _billing_side_effects() == NONE, f"{method} {rule.rule} started billing"
    assert called > 20
    assert stripe_invoices(fake_stripe) == []


def _leaf_commands(group: click.Group, path=()):
    for name, command in sorted(group.commands.items()):
        if isinstance(command, click.Group):
            yield from _leaf_commands(command, (*path, name))
        else:
            yield (*path, name), command


def test_no_cli_command_starts_billing(app, runner, fake_stripe, ready_to_bill):
    _, p = ready_to_bill
    leaves = list(_leaf_commands(app.cli))
    names = {path[0] for path, _ in leaves}
    assert {"sync", "worker", "scheduler"} <= names
    invoked = 0
    for path, command in leaves:
        if path[0] in PROCESS_COMMANDS:
            continue
        args = list(path) + ONE_SHOT.get(path[-1], [])
        for param in command.params:
            if isinstance(param, click.Argument) and param.required:
                args.append("billing.run")
            elif isinstance(param, click.Option) and "partnership" in param.name:
                args += [param.opts[0], str(p.id)]
        result = runner.invoke(args=args)
        invoked += 1
        assert _billing_side_effects() == NONE, f"`flask {' '.join(args)}` started billing: {result.output}"
    assert invoked >= 5
    refused = runner.invoke(args=["sync", "run", "billing.run"])
    assert refused.exit_code == 2 and "never be started by hand" in refused.output
    assert stripe_invoices(fake_stripe) == []


def test_the_runtime_refuses_billing_from_request_run_and_run_now(app, fake_stripe, ready_to_bill):
    _, p = ready_to_bill
    for start in (lambda: request_run("billing.run", f"partnership:{p.id}"), lambda: run_now("billing.run", p.id)):
        with pytest.raises(ManualRunRefused):
            start()
    assert _billing_side_effects() == NONE
