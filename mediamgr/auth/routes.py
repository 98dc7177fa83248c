"""Log in, log out and register; every one of them rate-limited and ending in a fresh session."""
from datetime import timedelta
from urllib.parse import urlsplit

from flask import abort, current_app, flash, make_response, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required, login_user, logout_user

from ..extensions import db, login_manager
from . import bp
from .accounts import (AccountRefused, check_new_email, check_new_password, clean_display_name, normalize_email,
                       verify_login)
from .forms import LoginForm, RegisterForm
from .limits import login_limits, register_limit, wait_text
from .models import User
from .sessions import end_session, load_session_user, start_session
from .tokens import bearer_token

login_manager.user_loader(lambda user_id: None if bearer_token() is not None else load_session_user(user_id))


def _safe_next(target):
    """Only same-site paths: ?next= must not send people to another site."""
    parts = urlsplit(target or "")
    if target and not parts.scheme and not parts.netloc and target.startswith("/") and not target.startswith("//"):
        return target
    return url_for("library.index")


def sign_in(user, remember=False):
    """A new session for `user`: the old session's contents (and its CSRF token) go, so nothing from
    before the login carries over (no session fixation)."""
    session.clear()
    start_session(user, remember=remember)
    login_user(user, remember=remember, duration=timedelta(days=current_app.config["REMEMBER_DAYS"]))


def _login_page(form, status):
    return make_response(render_template("auth/login.html", form=form), status)


def _too_many_logins():
    form = LoginForm(formdata=None, email=request.form.get("email", "")[:254])
    form.password.errors = [wait_text()]
    return _login_page(form, 429)


def _too_many_signups():
    form = RegisterForm(formdata=None)
    form.email.errors = [wait_text()]
    return make_response(render_template("auth/register.html", form=form), 429)


@bp.route("/login", methods=["GET", "POST"])
@login_limits(on_breach=lambda _limit: _too_many_logins())
def login():
    """The login form; a wrong email or password says so without telling which, in the same time."""
    if current_user.is_authenticated:
        return redirect(url_for("library.index"))
    form = LoginForm()
    if form.validate_on_submit():
        user = verify_login(form.email.data, form.password.data)
        if user is not None:
            sign_in(user, remember=form.remember.data)
            return redirect(_safe_next(request.args.get("next")))
        form.password.errors.append("That email and password do not match an account.")
    return _login_page(form, 422 if form.errors else 200)



@bp.post("/logout")
@login_required
def logout():
    """End this session: its cookies (any copy of them) sign nobody in any more."""
    end_session(current_user)
    session.clear()
    logout_user()  # after clearing: it leaves the note that deletes the remember cookie
    flash("You are logged out.", "info")
    return redirect(url_for("auth.login"))


@bp.route("/register", methods=["GET", "POST"])
@register_limit(on_breach=lambda _limit: _too_many_signups())
def register():
    """Sign up as an instructor (when REGISTRATION_OPEN)."""
    if not current_app.config["REGISTRATION_OPEN"]:
        abort(404)
    form = RegisterForm()
    if form.validate_on_submit():
        email = normalize_email(form.email.data)
        try:
            name = clean_display_name(form.display_name.data)
        except AccountRefused as refusal:
            form.display_name.errors.append(str(refusal))
        try:
            check_new_email(email)
        except AccountRefused as refusal:
            form.email.errors.append(str(refusal))
        try:
            check_new_password(form.password.data, email, form.display_name.data)
        except AccountRefused as refusal:
            form.password.errors.append(str(refusal))
        if not form.errors:
            user = User(email=email, display_name=name, role="instructor",
                        quota_bytes=current_app.config["DEFAULT_QUOTA_BYTES"])
            user.set_password(form.password.data)
            db.session.add(user)
            db.session.commit()
            sign_in(user)
            flash("Welcome! Your library is ready for your first upload.", "success")
            return redirect(url_for("library.index"))
    return render_template("auth/register.html", form=form), 422 if form.errors else 200

