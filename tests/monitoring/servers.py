"""Small servers on 127.0.0.1 that tests start, stop and start again on the same port."""

from __future__ import annotations

import socket
import socketserver
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class _Reuse:
    allow_reuse_address = True
    daemon_threads = True


class BannerServer:
    """Answers every connection with one banner line (SMTP/FTP '220 …')."""

    def __init__(self, banner: bytes = b"220 test.local ESMTP ready\r\n", port: int = 0) -> None:
        self.banner, self.port, self._srv = banner, port, None

    def start(self) -> BannerServer:
        banner = self.banner

        class Handler(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                self.request.sendall(banner)

        class Srv(_Reuse, socketserver.ThreadingTCPServer):
            pass

        self._srv = Srv(("127.0.0.1", self.port), Handler)
        self.port = self._srv.server_address[1]
        threading.Thread(target=self._srv.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._srv:
            self._srv.shutdown()
            self._srv.server_close()
            self._srv = None


class HttpServer:
    """Answers GET with `status` (changeable while running)."""

    def __init__(self, status: int = 200) -> None:
        self.status, self.port, self._srv = status, 0, None

    def start(self) -> HttpServer:
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802
                self.send_response(outer.status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args) -> None:  # type: ignore[no-untyped-def]
                pass

        class Srv(_Reuse, ThreadingHTTPServer):
            pass

        self._srv = Srv(("127.0.0.1", self.port), Handler)
        self.port = self._srv.server_address[1]
        threading.Thread(target=self._srv.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._srv:
            self._srv.shutdown()
            self._srv.server_close()
            self._srv = None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])
