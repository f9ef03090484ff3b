"""The retailer sign-up form; Flask-WTF adds and checks the CSRF token."""

from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, StringField
from wtforms.validators import DataRequired, Email, Length


class RetailerSignupForm(FlaskForm):
    """A retailer's company, first user and the invitation code its wholesaler sent."""

    invite_code = StringField("Invitation code", validators=[DataRequired(), Length(max=64)])
    organization = StringField("Shop name", validators=[DataRequired(), Length(max=200)])
    email = EmailField("Email", validators=[DataRequired(), Email(check_deliverability=False)])
    password = PasswordField("Password", validators=[DataRequired(), Length(min=10, max=200)])
