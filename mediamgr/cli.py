"""`flask` commands: demo accounts, users and their quotas."""
import click
from flask import current_app

from .auth.models import User
from .extensions import db
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
