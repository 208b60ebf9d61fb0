"""Login (SPEC §10: "E-postadress", "Lösenord", "Logga in")."""

from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, SubmitField

from .fields import MaxLength, Required


class LoginForm(FlaskForm):
    email = EmailField("E-postadress", validators=[Required(), MaxLength(254)])
    password = PasswordField("Lösenord", validators=[Required(), MaxLength(200)])
    submit = SubmitField("Logga in")
