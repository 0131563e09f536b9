"""The web side's error answers: the one JSON error shape and the handlers that turn any error
into a short Japanese page or JSON (never a stack trace), with a number to call."""
from __future__ import annotations

import logging

from flask import Flask, jsonify, request


def json_error(status: int, code: str, message: str, **extra):
    """The one error shape of the JSON endpoints: ``{"error": {"code", "message"}, ...extra}``."""
    return jsonify({"error": {"code": code, "message": message}, **extra}), status



def register_error_handlers(app: Flask) -> None:
    """JSON errors for the API, short Japanese pages elsewhere; never a stack trace."""
    messages = {
        400: "リクエストの形式が正しくありません。",
        404: "ページが見つかりません。",
        405: "この方法では使えません。",
        413: "送られた内容が大きすぎます。",
        429: "短い時間にたくさん送られました。少し待ってください。",
        500: "エラーが起きました。時間をおいてもう一度お試しください。",
    }

    def handle(exc):
        code = getattr(exc, "code", 500) or 500
        if code not in messages:
            code = 500
        if code == 500:
            logging.getLogger("soudan.web").exception("unhandled error")
        message = messages[code]
        extra = {}
        if code in (429, 500) or request.path.startswith("/api/"):
            sogo = app.config["DIRECTORY"].agency("sogo")
            message += f" お急ぎの相談は{sogo.name}（電話：{sogo.phone}）へ。"
            extra = {"phone": sogo.phone, "tel": sogo.tel}
        if request.path.startswith(("/api/", "/line/", "/healthz")):
            return json_error(code, str(code), message, **extra)
        return (f"<!doctype html><html lang=ja><meta charset=utf-8><title>{code}</title>"
                f"<p>{message}</p></html>"), code, {"Content-Type": "text/html; charset=utf-8"}

    for code in (400, 404, 405, 413, 429, 500):
        app.register_error_handler(code, handle)
    app.register_error_handler(Exception, handle)
