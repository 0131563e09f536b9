"""LINE Messaging API channel (line-bot-sdk v3): webhook blueprint, signature check, event
handling, conversion of Rasa replies to LINE messages (quick replies, Flex), pseudonymous
sender ids and de-duplication of redelivered events. Register with
``app.register_blueprint(bot.web.line.bp)``."""
from bot.web.line.webhook import bp

__all__ = ["bp"]
