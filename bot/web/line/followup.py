"""Follow-up of a LINE resident by the centre's staff (issue 15): the LINE side of
``bot.web.line.contact``.

- Keeping the contact: when a handoff with 「このLINEで連絡してほしい」 and consent is saved, the
  action server sends the note ``line_contact_ref``; the channel, which holds the raw user id at
  that moment, stores it encrypted on that case (``take_notes``). The action server never sees
  the key or the id.
- The resident writing: 「連絡をやめる」 (typed or the quick reply) deletes the stored id at once.
  Once staff have reached the resident on LINE, what the resident writes while the case is open
  goes to the case history and the resident is told so; danger in it gets the crisis answer
  first and raises the case (``bot.core.store.raise_danger``). Before that, messages go to Rasa as
  usual.
- Blocking the account (``unfollow``) deletes the stored id too.
- Staff replies: ``push`` sends the text through the Messaging API's push endpoint, prefixed with
  the centre's name and the 受付番号, with LINE's retry key so a form sent twice is delivered once.

Nothing here logs a user id or a message text.
"""
from __future__ import annotations

import logging
import os
import sqlite3
import unicodedata
from contextlib import closing
from dataclasses import dataclass
from typing import List, Mapping, Optional

from linebot.v3.messaging import PushMessageRequest
from linebot.v3.messaging.exceptions import ApiException
from pydantic.v1 import ValidationError as PydanticValidationError

from bot.core.danger import detect
from bot.core.replies import crisis_message, please_call_text
from bot.core.store import StoreError, connect, raise_danger
from bot.core.textnorm import fold_kana
from bot.web.line import contact
from bot.web.line.contact import Vault
from bot.web.line.messages import to_line_messages, to_sdk

logger = logging.getLogger("soudan.line")

PUSH_TIMEOUT = (3.0, 10.0)
REPLY_MAX_CHARS = 1000  # what staff may write in one message (LINE allows 5,000 with the prefix)

STOP_WORDS = ("連絡をやめる", "連絡をやめます", "連絡をやめて", "連絡をやめてください", "連絡をやめたい", "連絡やめる",
              "連絡やめて", "連絡はいらない", "連絡はいりません", "連絡いらない", "連絡はもういらない", "もう連絡しないで",
              "連絡しないで", "連絡しないでください", "連絡停止", "LINEでの連絡をやめる", "LINEの連絡をやめる")
STOP_BUTTON = {"title": "連絡をやめる", "payload": "連絡をやめる"}
PUSH_HEAD = "{centre}です（受付番号 {ref}）。"
RELAYED = ("受け取りました。センターの職員に伝えます（受付番号 {ref}）。お返事には時間がかかることがあります。\n"
           "急ぐときは、{call}")
STOPPED = ("わかりました。LINEでの連絡をやめます。保存していたこのLINEのIDは消しました（受付番号 {refs}）。\n"
           "相談するときは、受付番号を伝えて、{call}\n"
           "また相談したくなったら、いつでもここに書いてください。")
NOT_KEPT = ("ごめんなさい。いま、このLINEの連絡先を保存できませんでした。センターからLINEで連絡できないので、"
            "受付番号を伝えて、{call}")  # {call}: bot.core.replies.please_call_text


def is_stop(text: str) -> bool:
    """「連絡をやめる」 and its usual forms, as the whole message."""
    core = unicodedata.normalize("NFKC", text or "").strip().rstrip("。.!！ 　")
    core = fold_kana(core.replace(" ", "").replace("　", ""))
    return any(core == fold_kana(unicodedata.normalize("NFKC", w)) for w in STOP_WORDS)


@dataclass(frozen=True)
class PushResult:
    accepted: bool
    status: Optional[int]  # LINE's HTTP status; None when LINE could not be reached
    reason: str            # for staff, in Japanese

    def as_detail(self) -> dict:
        return {"accepted": self.accepted, "status": self.status}


def _failure_reason(status: Optional[int]) -> str:
    if status is None:
        return "LINEにつながりませんでした。しばらくしてから、もう一度送ってください（二重には届きません）"
    if status in (401, 403):
        return f"LINEが受け付けませんでした（HTTP {status}：チャネルアクセストークンを確かめてください）"
    if status == 429:
        return f"LINEが受け付けませんでした（HTTP {status}：送信数の上限です。月の上限や時間をおいて確かめてください）"
    if status >= 500:
        return (f"LINEが受け付けませんでした（HTTP {status}：LINE側の不具合の可能性があります。"
                "しばらくしてから、もう一度送ってください。二重には届きません）")
    return f"LINEが受け付けませんでした（HTTP {status}）"


class FollowUp:
    def __init__(self, channel, vault: Vault):
        self.channel = channel
        self.vault = vault

    @classmethod
    def from_env(cls, channel, environ: Mapping[str, str] = os.environ) -> Optional["FollowUp"]:
        """On when LINE_CONTACT_KEY is set; raises ContactKeyError when it is malformed."""
        key = contact.key_from_env(environ)
        return cls(channel, Vault(key)) if key else None

    @property
    def directory(self):
        return self.channel.directory

    def _sogo(self):
        return self.directory.agency("sogo")

    # -- from the webhook (worker threads) ----------------------------------------------------

    def take_notes(self, notes: List[dict], user_id: str) -> List[dict]:
        """Keep the contact for each ``line_contact_ref`` note; a message for the resident when it
        could not be kept (the action already said the centre would write on LINE)."""
        refs = [n["line_contact_ref"] for n in notes if isinstance(n, dict) and isinstance(n.get("line_contact_ref"), str)]
        if not refs:
            return []
        kept = False
        try:
            with closing(connect()) as db:
                kept = all(contact.remember(db, self.vault, ref, user_id) for ref in refs)
        except (sqlite3.Error, StoreError) as exc:
            logger.error("line contact not kept: %s", type(exc).__name__)
        logger.info("line contact kept: %s", "yes" if kept else "no")
        if kept:
            return []
        return [{"text": NOT_KEPT.format(call=please_call_text(self.directory))}]

    def incoming(self, user_id: str, text: str, typed: bool = True) -> Optional[List[dict]]:
        """The answer when the message belongs to a follow-up (a stop, or a typed reply to staff),
        else None (the message goes to Rasa as usual; so do buttons of the bot's questions)."""
        try:
            db = connect()
        except StoreError as exc:
            logger.error("line follow-up: store unavailable (%s)", exc.__class__.__name__)
            return None
        try:
            cases = contact.cases_of(db, self.vault, user_id)
            if not cases:
                return None
            if is_stop(text):
                refs = contact.forget_user(db, self.vault, user_id, "stop")
                logger.info("line contact deleted by the resident (%d cases)", len(refs))
                return [{"text": STOPPED.format(refs="、".join(refs), call=please_call_text(self.directory))}]
            target = next((c for c in cases if c["last_out"]), None) if typed else None
            if target is None:
                return None
            messages: List[dict] = []
            found = detect(text, kind_order=self.directory.kind_order)
            if found.kinds:  # danger first, as everywhere
                messages.append(crisis_message(self.directory, found.kinds))
                raise_danger(db, target["ref"], found.kinds, found.phrases,
                             [self.directory.crisis_label(k) for k in found.kinds])
            contact.add_message(db, target["id"], direction="in", username=contact.RESIDENT, text=text,
                                note="相談者からLINEで返事がありました。")
            logger.info("line follow-up: resident reply added to a case%s", " (danger)" if found.kinds else "")
            messages.append({"text": RELAYED.format(ref=target["ref"], call=please_call_text(self.directory)),
                             "buttons": [STOP_BUTTON]})
            return messages
        except (sqlite3.Error, StoreError) as exc:
            logger.error("line follow-up failed: %s", type(exc).__name__)
            return None
        finally:
            db.conn.close()

    def forget_user(self, user_id: str, reason: str) -> None:
        try:
            with closing(connect()) as db:
                refs = contact.forget_user(db, self.vault, user_id, reason)
        except (sqlite3.Error, StoreError) as exc:
            logger.error("line contact not deleted: %s", type(exc).__name__)
            return
        if refs:
            logger.info("line contact deleted (%s, %d cases)", reason, len(refs))

    # -- from the staff pages -----------------------------------------------------------------

    def user_of(self, handoff: dict) -> Optional[str]:
        token = handoff.get("line_contact")
        return self.vault.decrypt(token) if token else None

    def push_text(self, ref: str, text: str) -> str:
        return PUSH_HEAD.format(centre=self._sogo().name, ref=ref) + "\n" + text

    def push(self, db, handoff: dict, text: str, username: str, retry_key: str) -> PushResult:
        """Send ``text`` to the resident of ``handoff``; the attempt and LINE's answer go into the
        history. Raises LookupError when the case has no readable contact."""
        user_id = self.user_of(handoff)
        if not user_id:
            raise LookupError("no contact")
        if contact.accepted_with_key(db, handoff["id"], retry_key):
            return PushResult(True, 200, "すでに送っています（同じ送信が2回ありました。二重には届いていません）")
        api = self.channel.api
        status: Optional[int] = None
        accepted = False
        if api is None:
            reason = "LINEの設定（LINE_CHANNEL_SECRET と LINE_CHANNEL_ACCESS_TOKEN）がないため、送れません"
        else:
            messages = to_sdk(to_line_messages([{"text": self.push_text(handoff["ref"], text),
                                                 "buttons": [STOP_BUTTON]}]))
            try:
                api.push_message(PushMessageRequest(to=user_id, messages=messages), x_line_retry_key=retry_key,
                                 _request_timeout=PUSH_TIMEOUT)
                accepted, status = True, 200
            except ApiException as exc:
                status = exc.status
                accepted = status == 409  # this retry key was accepted before: delivered once
            except PydanticValidationError:  # 2xx, but LINE's answer did not match the SDK's model
                accepted, status = True, 200
            except Exception as exc:
                logger.warning("line push failed: %s", type(exc).__name__)
            reason = "LINEが受け付けました" if accepted else _failure_reason(status)
        logger.info("line push: %s (HTTP %s)", "accepted" if accepted else "not accepted", status)
        note = ("職員がLINEで送りました。LINEが受け付けました。" if accepted else
                f"職員がLINEで送ろうとしましたが、届いていません：{reason}。")
        contact.add_message(db, handoff["id"], direction="out", username=username, text=text, note=note,
                            accepted=accepted, retry_key=retry_key)
        return PushResult(accepted, status, reason)
