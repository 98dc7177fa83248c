"""`flask` commands: demo accounts and users."""
import click

from .auth.models import User
from .extensions import db

DEMO_ACCOUNTS = (
    ("instructor@example.com", "instructor-demo", "Demo Instructor", "instructor"),
    ("instructor2@example.com", "instructor2-demo", "Second Instructor", "instructor"),
    ("admin@example.com", "admin-demo", "Demo Admin", "admin"),
)


def ensure_user(email, password, display_name, role):
    """Create the account unless it exists; returns True when it was created."""
    if db.session.scalar(db.select(User.id).where(User.email == email)):
        return False
    user = User(email=email, display_name=display_name, role=role)
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
