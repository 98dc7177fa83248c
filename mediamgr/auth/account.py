"""The account page (/account): change the password, see where you are signed in and sign out
everywhere else, make and revoke personal access tokens for scripts and tus clients."""
import sqlalchemy as sa
from flask import flash, make_response, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from ..extensions import db
from ..scoping import first_or_404, owned_by
from . import bp
from .accounts import AccountRefused, check_new_password
from .forms import PasswordForm, TokenForm
from .limits import password_limit
from .models import ApiToken
from .sessions import end_other_sessions, sessions_of
from .tokens import TokenRefused, create_token, hand_over_new_token, revoke_all_tokens, take_new_token, tokens_of


def _page(password_form=None, token_form=None, new_token=None, status=200):
    return make_response(render_template(
        "auth/account.html", password_form=password_form or PasswordForm(formdata=None),
        token_form=token_form or TokenForm(formdata=None), new_token=new_token, sessions=sessions_of(current_user),
        tokens=tokens_of(current_user)), status)


@bp.get("/account")
@login_required
def account():
    """The page; right after a token was made (?made=…), with that token, this once."""
    return _page(new_token=take_new_token(current_user, request.args.get("made", "")))


@bp.post("/account/password")
@login_required
@password_limit()
def change_password():
    """A new password ends every other session (a thief's included); this one goes on."""
    form = PasswordForm()
    if form.validate_on_submit():
        if not current_user.check_password(form.current.data):
            form.current.errors.append("That is not your current password.")
        else:
            try:
                check_new_password(form.password.data, current_user.email, current_user.display_name)
            except AccountRefused as refusal:
                form.password.errors.append(str(refusal))
        if not form.errors:
            current_user.set_password(form.password.data)
            db.session.commit()
            ended = end_other_sessions(current_user)
            revoked = revoke_all_tokens(current_user.id) if form.revoke_tokens.data else 0
            flash("Password changed." + (f" Signed out of {ended} other session{'s' if ended != 1 else ''}." if ended else "")
                  + (f" {revoked} API token{'s' if revoked != 1 else ''} revoked." if revoked else ""), "success")
            return redirect(url_for("auth.account"))
    return _page(password_form=form, status=422)


@bp.post("/account/sessions/end-others")
@login_required
def end_others():
    ended = end_other_sessions(current_user)
    flash(f"Signed out of {ended} other session{'s' if ended != 1 else ''}." if ended
          else "You are not signed in anywhere else.", "success")
    return redirect(url_for("auth.account"))


@bp.post("/account/tokens")
@login_required
@password_limit()
def new_token():
    """Make a token, with the password (a stolen session alone cannot mint a lasting key); the page
    shows it this once (it is stored only as its hash)."""
    form = TokenForm()
    if form.validate_on_submit():
        if not current_user.check_password(form.password.data):
            form.password.errors.append("That is not your password.")
        else:
            try:
                token, secret = create_token(current_user, form.name.data)
            except TokenRefused as refusal:
                form.name.errors.append(str(refusal))
            else:
                made = hand_over_new_token(current_user, token, secret)
                if made is None:  # Redis is down: show it in this answer (a reload would make another)
                    return _page(new_token=(token, secret), status=201)
                return redirect(url_for("auth.account", made=made))
    return _page(token_form=form, status=422)


@bp.post("/account/tokens/<int:token_id>/revoke")
@login_required
def revoke_token(token_id):
    token = first_or_404(owned_by(ApiToken, current_user.id).where(ApiToken.id == token_id))
    name = token.name
    db.session.execute(sa.delete(ApiToken).where(ApiToken.id == token.id))
    db.session.commit()
    flash(f"Token “{name}” revoked: scripts using it are refused from now on.", "success")
    return redirect(url_for("auth.account"))
