"""Forms of the staff pages (Flask-WTF: every form carries a CSRF token)."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, IntegerField, PasswordField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from bot.web.staff.queries import SEARCH_MAX_CHARS
from bot.web.staff.workflow import NOTE_MAX_CHARS


class LoginForm(FlaskForm):
    username = StringField("ユーザー名", validators=[DataRequired(), Length(max=64)])
    password = PasswordField("パスワード", validators=[DataRequired(), Length(max=256)])


class LogoutForm(FlaskForm):
    pass


class SearchForm(FlaskForm):
    q = StringField("受付番号または電話番号", validators=[DataRequired(), Length(max=SEARCH_MAX_CHARS)])


class StatusForm(FlaskForm):
    expected_status = HiddenField()
    to_status = SelectField("新しい状態", validate_choice=False, validators=[DataRequired()])
    agency = SelectField("つないだ先", validate_choice=False, validators=[Optional()])
    note = TextAreaField("メモ（任意）", validators=[Optional(), Length(max=NOTE_MAX_CHARS)])


class NoteForm(FlaskForm):
    note = TextAreaField("メモ", validators=[DataRequired(), Length(max=NOTE_MAX_CHARS)])


class AssignForm(FlaskForm):
    assignee = SelectField("担当者", validate_choice=False, validators=[Optional()])


class PurgeForm(FlaskForm):
    days = IntegerField("保存期間（日）", validators=[InputRequired(), NumberRange(min=1, max=36500)])
    confirm = BooleanField("削除してよいことを確認しました", validators=[DataRequired()])


class AccountActionForm(FlaskForm):
    action = HiddenField(validators=[DataRequired()])
