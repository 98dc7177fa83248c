"""`flask` commands: demo accounts, users and their quotas, storage cleanups."""
import getpass
import json
import socket

import click
import sqlalchemy as sa
from flask import current_app

from .admin import cleanups
from .auth.models import User
from .extensions import db
from .library import cleanup, portability
from .library.quotas import human, parse_quota, stored_bytes

DEMO_ACCOUNTS = (
    ("instructor@example.com", "instructor-demo", "Demo Instructor", "instructor"),
    ("instructor2@example.com", "instructor2-demo", "Second Instructor", "instructor"),
    ("admin@example.com", "admin-demo", "Demo Admin", "admin"),
)


def ensure_user(email, password, display_name, role):
    """Create the account unless it exists; returns True when it was created."""
    if db.session.scalar(db.select(User.id).where(User.email == email)):
        return False
    user = User(email=email, display_name=display_name, role=role, quota_bytes=current_app.config["DEFAULT_QUOTA_BYTES"])
    user.set_password(password)
    db.session.add(user)
    db.session.commit()
    return True


def register_commands(app):
    @app.cli.command("seed-demo")
    def seed_demo():
        """Create the demo accounts (embedded mode) unless they exist."""
        for account in DEMO_ACCOUNTS:
            if ensure_user(*account):
                click.echo(f"created {account[0]}")

    @app.cli.command("create-user")
    @click.argument("email")
    @click.option("--name", default=None, help="Display name (default: the part of the email before @).")
    @click.option("--role", type=click.Choice(["instructor", "admin"]), default="instructor")
    @click.password_option()
    def create_user(email, name, role, password):
        """Create an account."""
        email = email.strip().lower()
        if ensure_user(email, password, name or email.split("@")[0], role):
            click.echo(f"created {role} {email}")
        else:
            raise click.ClickException(f"{email} already has an account")

    @app.cli.command("quota")
    @click.argument("email")
    @click.argument("size")
    def quota(email, size):
        """Set a user's storage quota: 10GB, 500MB, a number of bytes, or unlimited."""
        user = db.session.scalar(db.select(User).where(User.email == email.strip().lower()))
        if user is None:
            raise click.ClickException(f"{email} has no account")
        try:
            user.quota_bytes = parse_quota(size)
        except ValueError as error:
            raise click.ClickException(str(error)) from error
        db.session.commit()
        used = human(stored_bytes(user.id))
        limit = "unlimited" if user.quota_bytes is None else human(user.quota_bytes)
        click.echo(f"{user.email}: {used} stored, quota {limit}")

    @app.cli.group("cleanup")
    def cleanup_group():
        """Storage cleanups: a dry run first, then the run, with the same audit record as /admin."""

    @cleanup_group.command("purge-trash")
    @click.option("--user", "email", default="", help="Only this user's files (email).")
    @click.option("--dry-run", is_flag=True, help="Only report what would go.")
    @click.option("--csv", "csv_path", type=click.Path(dir_okay=False, writable=True), help="Write the full list here.")
    def purge_trash(email, dry_run, csv_path):
        """Delete for good the files whose time in the trash (TRASH_RETENTION_DAYS) has ended."""
        _cleanup(lambda: cleanup.Criteria.checked("purge-trash", user_email=email), dry_run, csv_path)

    @cleanup_group.command("orphans")
    @click.option("--older-than", "days", type=click.IntRange(0, 36500), required=True,
                  help="Unused for more than this many days.")
    @click.option("--kind", type=click.Choice(list(cleanup.ORPHAN_KINDS)), default="both", show_default=True)
    @click.option("--user", "email", default="", help="Only this user's files (email).")
    @click.option("--dry-run", is_flag=True, help="Only report what would go.")
    @click.option("--permanent", is_flag=True, help="Delete for good instead of moving to the trash.")
    @click.option("--csv", "csv_path", type=click.Path(dir_okay=False, writable=True), help="Write the full list here.")
    def orphans(days, kind, email, dry_run, permanent, csv_path):
        """Remove files no course links (never used, previously used, or both) unused for more than N days."""
        _cleanup(lambda: cleanup.Criteria.checked("orphans", older_than=days, orphans=kind, user_email=email,
                                                  permanent=permanent), dry_run, csv_path)

    @app.cli.group("library")
    def library_group():
        """Export a library's metadata, or import an export into a library."""

    @library_group.command("export")
    @click.argument("email")
    @click.argument("path", type=click.Path(dir_okay=False, writable=True))
    @click.option("--csv", "as_csv", is_flag=True, help="The file list as CSV instead of the JSON document.")
    def export_library(email, path, as_csv):
        """Write EMAIL's library to PATH (JSON, or CSV with --csv)."""
        owner = _user(email)
        total = portability.file_count(owner.id)
        with open(path, "w", encoding="utf-8", newline="") as out, \
                click.progressbar(length=total, label="Exporting", show_pos=True) as bar:
            export = portability.export_csv if as_csv else portability.export_json
            for piece in export(owner, on_progress=lambda done: bar.update(done - bar.pos)):
                out.write(piece)
            bar.update(total - bar.pos)
        click.echo(f"{total:,} files of {owner.email} written to {path}")

    @library_group.command("import")
    @click.argument("email")
    @click.argument("path", type=click.Path(exists=True, dir_okay=False))
    @click.option("--dry-run", is_flag=True, help="Only check the document and say what would be created.")
    def import_library(email, path, dry_run):
        """Import the export at PATH into EMAIL's library, in one transaction."""
        owner = _user(email)
        try:
            with open(path, encoding="utf-8") as document_file:
                document = json.load(document_file)
        except (ValueError, UnicodeDecodeError) as error:
            raise click.ClickException(f"{path} is not a JSON library export ({error})") from error
        try:
            if dry_run:
                result = portability.plan(owner, document)
            else:
                with click.progressbar(length=100, label="Importing") as bar:
                    def progress(stage, done, total):
                        bar.label = "Copying stored files" if stage == "copying" else "Writing files"
                        bar.update(int(100 * done / max(total, 1)) - bar.pos)
                    result = portability.import_library(owner, document, on_progress=progress)
                    bar.update(100 - bar.pos)
        except portability.ImportRefused as refusal:
            raise click.ClickException("Nothing was imported:\n  " + "\n  ".join(refusal.errors)) from refusal
        verb = "would create" if dry_run else "created"
        click.echo(f"{'Dry run: ' if dry_run else ''}{verb} {result.new_files:,} files ({len(result.reused):,} reused), "
                   f"{len(result.new_tags):,} new tags, {len(result.courses):,} courses, {result.chapters:,} chapters, "
                   f"{result.links:,} links; {len(result.copies):,} stored files copied within storage "
                   f"({human(result.bytes_to_copy)})")
        for conflict in result.conflicts:
            click.echo(f"  conflict: {conflict}")


def _user(email):
    user = db.session.scalar(db.select(User).where(User.email == email.strip().lower()))
    if user is None:
        raise click.ClickException(f"{email} has no account")
    return user


def _cleanup(criteria_of, dry, csv_path):
    try:
        criteria = criteria_of()
    except cleanup.CleanupRefused as refusal:
        raise click.ClickException(str(refusal)) from refusal
    admin = db.session.scalar(sa.select(User).where(User.role == "admin").order_by(User.id).limit(1))
    if admin is None:
        raise click.ClickException("A cleanup's operation belongs to an admin: create one first "
                                   "(flask --app app create-user EMAIL --role admin).")
    who = f"command line ({getpass.getuser()}@{socket.gethostname()})"
    run = cleanup.dry_run(admin, criteria, source="cli", actor_name=who)
    user = db.session.get(User, criteria.user_id) if criteria.user_id else None
    click.echo(f"{'Dry run' if dry else 'Cleanup'} {run.id}: {criteria.describe(user)}")
    click.echo(f"  {run.files:,} files, {human(run.bytes)} as listed")
    for owner in cleanup.breakdown(run):
        click.echo(f"  {owner.email or owner.name:<40} {owner.files:>10,} files {human(owner.bytes):>12}")
    for item, email in cleanup.sample(run, limit=10):
        click.echo(f"    {human(item.size_bytes):>10}  {email or '-'}  {item.name}")
    if csv_path:
        with open(csv_path, "w", newline="", encoding="utf-8") as out:
            for chunk in cleanup.csv_lines(run):
                out.write(chunk)
        click.echo(f"  the full list is in {csv_path}")
    if dry or not run.files:
        click.echo("Nothing was removed." + ("" if run.files else " Nothing matches."))
        return
    with click.progressbar(length=run.files, label="Cleaning up", show_pos=True) as bar:
        operation = cleanups.run_here(run, admin, on_batch=lambda op: bar.update(op.processed - bar.pos))
        bar.update(run.files - bar.pos)
    run = db.session.get(cleanup.CleanupRun, run.id)
    click.echo(f"{run.status.capitalize()}: {run.removed:,} of {run.files:,} files removed, {human(run.bytes_freed)} freed, "
               f"{run.spared_total:,} spared, {run.failures:,} failures (operation {operation.id}).")
    for reason, count in run.spared.items():
        click.echo(f"  spared {count:,}: {reason}")
