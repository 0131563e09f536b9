"""Serve the web side with waitress (a production WSGI server): ``python -m bot.web.serve``."""
from __future__ import annotations

import argparse
import logging
import os
import sys

from waitress import serve

from bot.core.datacheck import check_data
from bot.core.directory import DirectoryError
from bot.core.store import StoreError, open_store


def server_options(environ=os.environ) -> dict:
    """waitress options. Behind a reverse proxy, ``TRUSTED_PROXY`` (its address) makes waitress
    take the client's address from the proxy's X-Forwarded-For (one hop), so the staff login
    lockout counts per resident or staff address, not per proxy; from any other peer the
    forwarded headers are dropped."""
    options = dict(ident="soudan", connection_limit=200, channel_timeout=30, clear_untrusted_proxy_headers=True,
                   max_request_body_size=512 * 1024)
    proxy = environ.get("TRUSTED_PROXY", "").strip()
    if proxy:
        options.update(trusted_proxy=proxy, trusted_proxy_count=1,
                       trusted_proxy_headers={"x-forwarded-for", "x-forwarded-proto"})
    return options


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
    parser.add_argument("--threads", type=int, default=int(os.environ.get("WEB_THREADS", "16")))
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    from bot.web import create_app
    try:
        check_data()  # every data file against the vocabulary (bot/core/fields.py): a clear error, not a late one
        app = create_app()
        open_store().conn.close()
        settings = app.config["SETTINGS"]
        if settings.handoff_store_listen:  # action servers on other machines save here (docs/deployment.md)
            from bot.web.internal_store import serve_in_thread
            serve_in_thread(settings.handoff_store_listen, settings.handoff_store_secret, app.config["RASA"])
    except (DirectoryError, StoreError, ValueError, OSError) as exc:
        print(f"web side cannot start: {exc}", file=sys.stderr)
        return 2
    # For the city: directory values the source did not give (residents only read "見込み").
    logging.getLogger("soudan.web").info("directory values not confirmed by the city: %s",
                                         "; ".join(app.config["DIRECTORY"].unconfirmed) or "none")
    serve(app, host=args.host, port=args.port, threads=args.threads, **server_options())
    return 0


if __name__ == "__main__":
    sys.exit(main())
