"""Forms of the details dialog."""
from flask_wtf import FlaskForm
from wtforms import StringField, TextAreaField
from wtforms.validators import DataRequired, Length

from .service import MAX_CATEGORY_LENGTH, MAX_DESCRIPTION_LENGTH


class RenameForm(FlaskForm):
    name = StringField("Name", validators=[DataRequired("The name can't be empty."), Length(max=200)])


class DetailsForm(FlaskForm):
    description = TextAreaField("Description", validators=[Length(max=MAX_DESCRIPTION_LENGTH)])
    category = StringField("Category", validators=[Length(max=MAX_CATEGORY_LENGTH)])


class TagForm(FlaskForm):
    tags = StringField("Add tags", validators=[DataRequired("Type a tag to add."), Length(max=500)])
