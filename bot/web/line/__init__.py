"""LINE Messaging API channel (line-bot-sdk v3): webhook blueprint, signature check, event
handling, conversion of Rasa replies to LINE messages (quick replies, Flex), pseudonymous
sender ids, de-duplication of redelivered events and the follow-up contact (``contact``,
``followup``). Register with ``app.register_blueprint(bot.web.line.bp)``. ``bp`` is loaded
lazily, so ``bot.web.line.contact`` (used by the runner and the retention command) does not pull
in the LINE SDK."""


def __getattr__(name):
    if name == "bp":
        from bot.web.line.webhook import bp
        return bp
    raise AttributeError(name)
