"""Flask CLI commands: users, the sync plan, the worker and scheduler processes, demo data, key rotation."""

from __future__ import annotations

import json
import sys

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from jobs.plan import SYNC_PLAN, ManualRunRefused, UnknownJob, get_manual_job

users = AppGroup("users", help="Manage dashboard users.")
sync = AppGroup("sync", help="Inspect the sync plan and run jobs in the foreground.")
demo = AppGroup("demo", help="Demo data for a laptop.")
tokens = AppGroup("tokens", help="Platform token encryption.")


@users.command("create")
@click.argument("email")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True, envvar="WHOLESYNC_PASSWORD")
@click.option("--operator", is_flag=True, help="An operator sees every tenant's sync health (no organization).")
@click.option("--organization", "org_name", help="Create a wholesaler organization with this name for the user.")
def create_user_cmd(email: str, password: str, operator: bool, org_name: str | None) -> None:
    """Create a user: an operator, or the first admin of a new wholesaler organization."""
    from portal.services.accounts import AccountError, create_user, create_wholesaler

    if operator == bool(org_name):
        raise click.UsageError("give exactly one of --operator or --organization NAME")
    try:
        user = (
            create_user(email, password, role="operator") if operator else create_wholesaler(org_name, email, password)
        )
    except AccountError as err:
        raise click.ClickException(str(err)) from None
    click.echo(f"created user {user.email} ({user.role})")


@sync.command("plan")
@click.option("--json", "as_json", is_flag=True, help="Print the plan as a JSON list.")
def plan_cmd(as_json: bool) -> None:
    """Print the sync plan: every job, its leg, interval and what it does."""
    if as_json:
        click.echo(json.dumps([spec.public() for spec in SYNC_PLAN], indent=2))
        return
    for spec in SYNC_PLAN:
        hours = spec.interval_seconds / 3600
        manual = "run by hand or on schedule" if spec.manual else "schedule only (never by hand)"
        click.echo(f"{spec.name:<20} every {hours:g} h  {spec.leg:<38} {manual}\n    {spec.description}")


@sync.command("run")
@click.argument("job")
@click.option("--partnership", "partnership_id", type=int, help="Only the targets of this partnership.")
def run_cmd(job: str, partnership_id: int | None) -> None:
    """Run JOB now in the foreground and print each run's summary. Billing is refused."""
    from jobs.runtime import run_now

    try:
        get_manual_job(job)
    except UnknownJob as err:
        click.echo(f"Error: {err}", err=True)
        sys.exit(2)
    except ManualRunRefused as err:
        click.echo(f"Refused: {err}", err=True)
        sys.exit(2)
    results = run_now(job, partnership_id)
    if not results:
        click.echo(f"{job}: nothing in scope (no active partnership with this flow switched on).")
    for result in results:
        click.echo(json.dumps(result, default=str))
    if any(r["status"] == "failed" for r in results):
        sys.exit(1)


@click.command("worker")
@click.option("--burst", is_flag=True, help="Stop when the queues are empty.")
@click.option("--name", help="Worker name (default: generated).")
@click.option("--queues", help="Comma-separated queues in priority order (default: webhooks,orders,sync,billing).")
def worker_cmd(burst: bool, name: str | None, queues: str | None) -> None:
    """Run an RQ worker on the webhooks, orders, sync and billing queues (or those of --queues)."""
    from jobs.plan import QUEUES
    from jobs.worker import make_worker

    chosen = tuple(q.strip() for q in queues.split(",") if q.strip()) if queues else QUEUES
    unknown = [q for q in chosen if q not in QUEUES]
    if unknown or not chosen:
        raise click.BadParameter(f"unknown queue(s) {', '.join(unknown)}; the queues are {', '.join(QUEUES)}")
    worker = make_worker(current_app._get_current_object(), queues=chosen, name=name)
    worker.work(burst=burst, with_scheduler=True)


@click.command("scheduler")
@click.option("--reconcile-only", is_flag=True, help="Register the sync plan and exit.")
def scheduler_cmd(reconcile_only: bool) -> None:
    """Register the sync plan in rq-scheduler (adding only what is new), then run the scheduler loop."""
    from jobs.scheduler import make_scheduler, reconcile

    scheduler = make_scheduler(current_app._get_current_object())
    added, removed = reconcile(scheduler)
    click.echo(f"sync plan reconciled: {len(added)} added, {len(removed)} removed")
    if not reconcile_only:
        scheduler.run()


@demo.command("seed")
def seed_cmd() -> None:
    """Create the demo wholesaler, two retailers and their partnerships (idempotent)."""
    from portal.demo import seed

    click.echo(seed())


@demo.command("billing")
def billing_cmd() -> None:
    """Bill the demo retailers by card through the local Stripe fake: account, card saved on its hosted page."""
    from portal.demo import setup_billing

    click.echo(setup_billing())


@tokens.command("rotate")
def rotate_cmd() -> None:
    """Re-encrypt every stored platform secret under the newest TOKEN_ENCRYPTION_KEYS key."""
    from portal.services.token_rotation import rotate_all

    click.echo(f"re-encrypted {rotate_all()} secrets")


def register(app: Flask) -> None:
    for command in (users, sync, demo, tokens, worker_cmd, scheduler_cmd):
        app.cli.add_command(command)
    app.cli.add_command(__import__("portal.partnerships_cli", fromlist=["partners"]).partners)
