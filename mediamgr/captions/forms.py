"""Forms of the Captions section."""
from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length

from .languages import DEFAULT_LANGUAGE, LANGUAGES
from .models import MAX_LABEL_LENGTH

NOT_CAPTIONS = "Caption files are WebVTT (.vtt) or SRT (.srt) files."


class CaptionForm(FlaskForm):
    file = FileField("Caption file", validators=[FileRequired("Choose a caption file (.vtt or .srt)."),
                                                 FileAllowed(["vtt", "srt"], NOT_CAPTIONS)])
    language = SelectField("Language", choices=[SelectChoice(code, name) for code, name in LANGUAGES.items()], default=DEFAULT_LANGUAGE,
                           validate_choice=False)  # the service says which languages there are
    label = StringField("Label", validators=[Length(max=MAX_LABEL_LENGTH)],
                        description="What the player's captions menu shows; the language's name if left empty.")


class CaptionLabelForm(FlaskForm):
    label = StringField("Label", validators=[Length(max=MAX_LABEL_LENGTH,
                                                    message=f"The label can be at most {MAX_LABEL_LENGTH} characters.")])
