"""The LINE channel: accepts verified webhook batches, answers each event once, in the
background, through a small bounded worker pool, with one reply per event.

Privacy: the raw LINE user id is used only to compute the pseudonymous sender id (and group or
room ids only to leave the group); none of them, and no message text, is logged or stored.
"""
from __future__ import annotations

import logging
import re
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Callable, Dict, List, Optional

from linebot.v3.messaging import ApiClient, Configuration, MessagingApi, ReplyMessageRequest
from linebot.v3.messaging.exceptions import ApiException
from pydantic.v1 import ValidationError as PydanticValidationError

from bot.core.replies import service_unavailable_text, unavailable_messages
from bot.core.inputtext import clean_text
from bot.web.line import copy
from bot.web.line.dedup import TtlSet
from bot.web.line.followup import FollowUp
from bot.web.line.messages import text_message, to_line_messages, to_sdk
from bot.web.line.security import line_sender_id, pseudonym
from bot.web import outcomes
from bot.web.rasa_client import RasaUnavailable

logger = logging.getLogger("soudan.line")

WORKERS = 4                 # Rasa answers one message in ~0.1-1 s; 4 in flight keep 2 cores busy
MAX_PENDING = 256           # queued + running batches; beyond that the webhook sheds load
STALE_AFTER_SECONDS = 8.0   # a batch that waited this long is answered without Rasa (token validity)
REPLY_TIMEOUT = (3.0, 5.0)  # connect, read seconds for LINE's reply API
DEDUP_TTL_SECONDS = 24 * 3600
DEDUP_MAX_ITEMS = 100_000
GROUP_NOTICE_TTL_SECONDS = 600
DEFAULT_API_ENDPOINT = "https://api.line.me"



class BoundedPool:
    """ThreadPoolExecutor with a cap on queued + running jobs (submit says False when full)."""

    def __init__(self, workers: int, max_pending: int):
        self.executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="line-worker")
        self.max_pending = max_pending
        self._pending = 0
        self._cond = threading.Condition()

    def submit(self, fn: Callable, *args) -> bool:
        with self._cond:
            if self._pending >= self.max_pending:
                return False
            self._pending += 1

        def run():
            try:
                fn(*args)
            except Exception as exc:  # never let a worker die; no message text in the log
                logger.error("line worker failed: %s", type(exc).__name__)
            finally:
                with self._cond:
                    self._pending -= 1
                    self._cond.notify_all()

        self.executor.submit(run)
        return True

    @property
    def pending(self) -> int:
        with self._cond:
            return self._pending

    def wait_idle(self, timeout: float = 10.0) -> bool:
        with self._cond:
            return self._cond.wait_for(lambda: self._pending == 0, timeout=timeout)


class LineChannel:
    def __init__(self, app, settings):
        self.app = app
        self.settings = settings
        self.channel_secret = settings.line_channel_secret
        self.enabled = bool(settings.line_channel_secret and settings.line_channel_access_token)
        self.pseudonym_secret = settings.pseudonym_secret or settings.secret_key
        self.seen = TtlSet(DEDUP_TTL_SECONDS, DEDUP_MAX_ITEMS)
        self.group_noticed = TtlSet(GROUP_NOTICE_TTL_SECONDS, 10_000)
        self.pool: Optional[BoundedPool] = None
        self.api: Optional[MessagingApi] = None
        self.followup: Optional[FollowUp] = None  # staff follow-up on LINE (LINE_CONTACT_KEY)
        if self.enabled:
            host = (settings.line_api_endpoint or DEFAULT_API_ENDPOINT).rstrip("/")
            config = Configuration(host=host, access_token=settings.line_channel_access_token)
            self.api = MessagingApi(ApiClient(config))
            self.pool = BoundedPool(WORKERS, MAX_PENDING)
            self.followup = FollowUp.from_env(self)  # a malformed key stops the start (ContactKeyError)

    # -- webhook side (request thread): cheap, no network -------------------------------------

    def accept(self, events: List[dict]) -> Dict[str, int]:
        """Queue new events (grouped per source, in order); duplicates are dropped here."""
        received_at = time.monotonic()
        stats = {"events": len(events), "duplicates": 0, "redelivered": 0, "shed": 0}
        batches: Dict[str, List[dict]] = {}
        for n, event in enumerate(events):
            if not isinstance(event, dict):
                continue
            if _obj(event.get("deliveryContext")).get("isRedelivery"):
                stats["redelivered"] += 1
            event_id = event.get("webhookEventId")
            if isinstance(event_id, str) and event_id and not self.seen.add_if_new(event_id):
                stats["duplicates"] += 1
                continue
            batches.setdefault(self._source_key(event) or f"event-{n}", []).append(event)
        for batch in batches.values():
            if not self.pool.submit(self.process, batch, received_at):
                stats["shed"] += len(batch)
                for event in batch:  # not answered: let a redelivery be answered later
                    if isinstance(event.get("webhookEventId"), str):
                        self.seen.discard(event["webhookEventId"])
        return stats

    def _source_key(self, event: dict) -> Optional[str]:
        source = _obj(event.get("source"))
        raw = source.get("groupId") or source.get("roomId") or source.get("userId")
        return pseudonym(self.pseudonym_secret, raw) if isinstance(raw, str) and raw else None

    # -- worker side ---------------------------------------------------------------------------

    def process(self, events: List[dict], received_at: float) -> None:
        for event in events:
            started = time.monotonic()
            try:
                self.handle(event, received_at)
            except Exception as exc:
                logger.error("line event failed: %s", type(exc).__name__)
            logger.info("line event %s handled in %.0f ms (%.0f ms after receipt)", _kind(event),
                        (time.monotonic() - started) * 1000, (time.monotonic() - received_at) * 1000)

    def handle(self, event: dict, received_at: float) -> None:
        kind = event.get("type")
        token = event.get("replyToken")
        source = _obj(event.get("source"))
        source_type = source.get("type")
        if source_type in ("group", "room"):
            self.handle_group(event, source)
            return
        user_id = source.get("userId")
        if kind == "unfollow" and source_type == "user" and self.followup and isinstance(user_id, str) and user_id:
            self.followup.forget_user(user_id, "unfollow")  # blocked: the stored contact goes at once
        if source_type != "user" or kind in ("unfollow", None) or event.get("mode") == "standby":
            return  # standby: another module channel answers
        stale = time.monotonic() - received_at > STALE_AFTER_SECONDS
        sender = line_sender_id(self.pseudonym_secret, user_id) if isinstance(user_id, str) and user_id else None
        if kind == "follow":
            messages = self.greeting(sender, stale)
        elif kind == "message":
            message = _obj(event.get("message"))
            if message.get("type") == "text":
                messages = self.answer_text(sender, message.get("text"), stale, user_id=user_id)
            else:
                messages = [{"text": copy.not_readable_text(str(message.get("type"))),
                             "buttons": copy.CATEGORY_BUTTONS}]
        elif kind == "postback":
            data = _obj(event.get("postback")).get("data")
            messages = self.answer_text(sender, data, stale, typed=False, user_id=user_id)
        else:
            return  # join/leave cannot come from a user; beacon, unsend, ... need no answer
        self.reply(token, messages, kind)

    def handle_group(self, event: dict, source: dict) -> None:
        """Consultations are one-to-one: say so (at most once in a while per group), then leave.
        Nothing from the group goes to Rasa."""
        if event.get("type") not in ("join", "message", "postback", "memberJoined"):
            return
        group_id, room_id = source.get("groupId"), source.get("roomId")
        raw = group_id or room_id
        if not isinstance(raw, str) or not raw:
            return
        if self.group_noticed.add_if_new(pseudonym(self.pseudonym_secret, raw)):
            self.reply(event.get("replyToken"), [{"text": copy.ONE_TO_ONE_NOTICE}], "group")
        try:
            if group_id:
                self.api.leave_group(group_id, _request_timeout=REPLY_TIMEOUT)
            else:
                self.api.leave_room(room_id, _request_timeout=REPLY_TIMEOUT)
        except ApiException as exc:
            logger.warning("line leave failed: HTTP %s", exc.status)
        except Exception as exc:
            logger.warning("line leave failed: %s", type(exc).__name__)

    # -- answers -------------------------------------------------------------------------------

    @property
    def directory(self):
        return self.app.config["DIRECTORY"]

    def ask_rasa(self, sender: str, text: str, user_id: Optional[str] = None) -> List[dict]:
        messages, notes = self.app.config["RASA"].send_with_notes(sender, text)
        outcomes.record("line", sender, notes)
        if self.followup and user_id and notes:  # keeps the contact for a LINE follow-up
            messages = messages + self.followup.take_notes(notes, user_id)
        return messages

    def unavailable(self, text: str = "") -> List[dict]:
        """Always a number to call; the crisis lines first when the words need them."""
        return unavailable_messages(self.directory, text)

    def answer_text(self, sender: Optional[str], text, stale: bool, typed: bool = True,
                    user_id: Optional[str] = None) -> List[dict]:
        if not isinstance(text, str):
            return [{"text": copy.empty_text()}]
        # The widget's cleaning (bot/core/inputtext.py): invisible characters removed, emoji sequences
        # kept. Characters the widget refuses are removed here instead: LINE has no error reply.
        text = clean_text(text).text.strip()
        if not text:
            return [{"text": copy.empty_text()}]
        if typed and len(text) > self.settings.max_message_chars:
            return [{"text": copy.too_long_text(self.settings.max_message_chars)}]
        if self.followup and isinstance(user_id, str) and user_id:
            followed = self.followup.incoming(user_id, text, typed)  # 「連絡をやめる」 or a reply to staff
            if followed:
                return followed
        if sender is None or stale:
            return self.unavailable(text if typed else "")
        try:
            return self.ask_rasa(sender, text, user_id)
        except RasaUnavailable as exc:
            logger.warning("line: Rasa unavailable (%s)", exc)
        except Exception as exc:
            logger.error("line: Rasa call failed: %s", type(exc).__name__)
        return self.unavailable(text if typed else "")

    def greeting(self, sender: Optional[str], stale: bool) -> List[dict]:
        messages: List[dict] = []
        if sender and not stale:
            try:
                messages = self.ask_rasa(sender, "/greet")
            except RasaUnavailable as exc:
                logger.warning("line: Rasa unavailable for the greeting (%s)", exc)
            except Exception as exc:
                logger.error("line: Rasa call failed: %s", type(exc).__name__)
        if not messages:
            messages = [{"text": copy.FOLLOW_FALLBACK_GREETING + "\n" + service_unavailable_text(self.directory)}]
        return messages + [copy.line_notice_message(self.directory)]

    # -- sending -------------------------------------------------------------------------------

    def reply(self, token: Optional[str], messages: List[dict], kind: str) -> bool:
        if not isinstance(token, str) or not token or not messages:
            return False
        line_messages = to_line_messages(messages)
        try:
            sdk_messages = to_sdk(line_messages)
        except Exception as exc:  # a message the SDK refuses: send the plain texts instead
            logger.error("line: message conversion failed (%s); sending text", type(exc).__name__)
            joined = "\n\n".join(m.get("text", "") for m in messages if isinstance(m, dict)) or \
                service_unavailable_text(self.directory)
            sdk_messages = to_sdk([text_message(joined)])
        request_ = ReplyMessageRequest(reply_token=token, messages=sdk_messages)
        try:
            self.api.reply_message(request_, _request_timeout=REPLY_TIMEOUT)
        except ApiException as exc:
            logger.warning("line reply to %s failed: HTTP %s", kind, exc.status)
            return False
        except PydanticValidationError:  # sent (2xx), but LINE's answer did not match the model
            logger.info("line reply to %s: sent; response not understood", kind)
        except Exception as exc:
            logger.warning("line reply to %s failed: %s", kind, type(exc).__name__)
            return False
        logger.info("line reply to %s: %d messages", kind, len(sdk_messages))
        return True


def _obj(value) -> dict:
    """A part of an event that should be a JSON object; anything else counts as empty."""
    return value if isinstance(value, dict) else {}


def _kind(event: dict) -> str:
    kind = str(event.get("type") or "?")
    if kind == "message":
        kind += "/" + str(_obj(event.get("message")).get("type") or "?")
    return re.sub(r"[^a-zA-Z/_]", "", kind)[:40]
