"""Forms of signing in, signing up and the account page."""
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, PasswordField, StringField
from wtforms.validators import DataRequired, Email, EqualTo, Length

from .accounts import MAX_NAME_LENGTH, MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH
from .tokens import MAX_NAME_LENGTH as MAX_TOKEN_NAME_LENGTH

NEW_PASSWORD_HINT = f"At least {MIN_PASSWORD_LENGTH} characters; a few uncommon words make a strong one."


class LoginForm(FlaskForm):
    email = EmailField("Email", validators=[DataRequired("Enter your email address."), Length(max=254)])
    password = PasswordField("Password", validators=[DataRequired("Enter your password."),
                                                     Length(max=MAX_PASSWORD_LENGTH)])
    remember = BooleanField("Remember me on this computer")


class RegisterForm(FlaskForm):
    display_name = StringField("Your name", validators=[DataRequired("Enter your name."), Length(max=MAX_NAME_LENGTH)])
    email = EmailField("Email", validators=[DataRequired("Enter your email address."), Email(check_deliverability=False),
                                            Length(max=254)])
    password = PasswordField("Password", description=NEW_PASSWORD_HINT,
                             validators=[DataRequired("Choose a password."), Length(max=MAX_PASSWORD_LENGTH)])
    confirm = PasswordField("Repeat password", validators=[EqualTo("password", "The passwords do not match.")])


class PasswordForm(FlaskForm):
    current = PasswordField("Current password", validators=[DataRequired("Enter your current password."),
                                                            Length(max=MAX_PASSWORD_LENGTH)])
    password = PasswordField("New password", description=NEW_PASSWORD_HINT,
                             validators=[DataRequired("Choose a new password."), Length(max=MAX_PASSWORD_LENGTH)])
    confirm = PasswordField("Repeat the new password", validators=[EqualTo("password", "The passwords do not match.")])
    revoke_tokens = BooleanField("Also revoke my API tokens (scripts using them stop working)", default=True)


class TokenForm(FlaskForm):
    # Its own ids: the account page also holds the password form, and ids must be unique on a page.
    name = StringField("Token name", id="token-name", validators=[DataRequired("Give the token a name."),
                                                 Length(max=MAX_TOKEN_NAME_LENGTH)])
    password = PasswordField("Your password", id="token-password", description="A token is a second key to your library: confirm it is you.",
                             validators=[DataRequired("Enter your password."), Length(max=MAX_PASSWORD_LENGTH)])
