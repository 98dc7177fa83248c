"""Forms of the details dialog."""
from flask_wtf import FlaskForm
from wtforms import StringField, TextAreaField
from wtforms.validators import DataRequired, Length

from .models import MAX_ALT_TEXT_LENGTH
from .service import MAX_CATEGORY_LENGTH, MAX_DESCRIPTION_LENGTH


class RenameForm(FlaskForm):
    name = StringField("Name", validators=[DataRequired("The name can't be empty."), Length(max=200)])


class DetailsForm(FlaskForm):
    description = TextAreaField("Description", validators=[Length(max=MAX_DESCRIPTION_LENGTH)])
    category = StringField("Category", validators=[Length(max=MAX_CATEGORY_LENGTH)])
    # Images only; its length rule is library.alt_text's (a refusal there says how long it is).
    alt_text = StringField("Alt text", description=f"What the image shows, for people who cannot see it. "
                                                   f"Up to {MAX_ALT_TEXT_LENGTH} characters.")


class TagForm(FlaskForm):
    tags = StringField("Add tags", validators=[DataRequired("Type a tag to add."), Length(max=500)])
