"""A real HTTP receiver on loopback for the webhook tests: records every request, can fail on purpose."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class Receiver:
    def __init__(self, delay_s: float = 0.0) -> None:
        self.requests: list[tuple[dict[str, str], bytes]] = []
        self.failing = False
        self.delay_s = delay_s
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                time.sleep(receiver.delay_s)
                with receiver.lock:
                    failing = receiver.failing
                    if not failing:
                        receiver.requests.append(({k: v for k, v in self.headers.items()}, body))
                self.send_response(500 if failing else 204)
                self.end_headers()

            def log_message(self, *_args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def events(self) -> list[dict[str, Any]]:
        with self.lock:
            return [json.loads(body) for _h, body in self.requests]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def signature_ok(secret: str, headers: dict[str, str], body: bytes) -> bool:
    """Checked as docs/watches.md tells a receiver to, written here again."""
    stamp = headers["Supplygraph-Timestamp"]
    mac = hmac.new(secret.encode(), stamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    fresh = abs(time.time() - int(stamp)) <= 300
    return fresh and hmac.compare_digest("v1=" + mac, headers["Supplygraph-Signature"])
