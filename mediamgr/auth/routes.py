"""Log in, log out and register."""
from urllib.parse import urlsplit

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required, login_user, logout_user

from ..extensions import db, login_manager
from . import bp
from .forms import LoginForm, RegisterForm
from .models import User


@login_manager.user_loader
def load_user(user_id):
    return db.session.get(User, int(user_id)) if str(user_id).isdigit() else None


def _safe_next(target):
    """Only same-site paths: ?next= must not send people to another site."""
    parts = urlsplit(target or "")
    if target and not parts.scheme and not parts.netloc and target.startswith("/") and not target.startswith("//"):
        return target
    return url_for("library.index")


@bp.route("/login", methods=["GET", "POST"])
def login():
    """The login form; a wrong email or password says so without telling which."""
    if current_user.is_authenticated:
        return redirect(url_for("library.index"))
    form = LoginForm()
    if form.validate_on_submit():
        user = db.session.scalar(db.select(User).where(User.email == form.email.data.strip().lower()))
        if user and user.check_password(form.password.data):
            login_user(user, remember=True)
            return redirect(_safe_next(request.args.get("next")))
        form.password.errors.append("That email and password do not match an account.")
    return render_template("auth/login.html", form=form), 422 if form.errors else 200


@bp.post("/logout")
@login_required
def logout():
    """End the session."""
    logout_user()
    flash("You are logged out.", "info")
    return redirect(url_for("auth.login"))


@bp.route("/register", methods=["GET", "POST"])
def register():
    """Sign up as an instructor (when REGISTRATION_OPEN)."""
    if not current_app.config["REGISTRATION_OPEN"]:
        abort(404)
    form = RegisterForm()
    if form.validate_on_submit():
        email = form.email.data.strip().lower()
        if db.session.scalar(db.select(User.id).where(User.email == email)):
            form.email.errors.append("An account with this email already exists. Log in instead.")
        else:
            user = User(email=email, display_name=form.display_name.data.strip(), role="instructor")
            user.set_password(form.password.data)
            db.session.add(user)
            db.session.commit()
            login_user(user)
            flash("Welcome! Your library is ready for your first upload.", "success")
            return redirect(url_for("library.index"))
    return render_template("auth/register.html", form=form), 422 if form.errors else 200
