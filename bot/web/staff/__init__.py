"""Staff review of handoffs for 北斗市総合相談支援センター: the ``/staff`` blueprint.

Register with ``app.register_blueprint(bp)``; the blueprint configures the session cookie and
CSRF protection (for its own forms only) when it is registered. ``bp`` is loaded lazily so the
command-line tools (``flask --app bot.web staff ...``, bot/web/staff/cli.py) need not pull in the
web views."""


def __getattr__(name):
    if name == "bp":
        from bot.web.staff.views import bp
        return bp
    raise AttributeError(name)
