"""A local SMTP server that keeps what it receives: the alert e-mails of a test, as Airflow's SMTP hook sends them."""

from __future__ import annotations

import contextlib
import email
import email.message
import json
import socketserver
import threading


class _Handler(socketserver.StreamRequestHandler):
    """Just enough SMTP to receive one message."""

    def handle(self):
        self.wfile.write(b"220 test\r\n")
        data = False
        while line := self.rfile.readline():
            if data:
                if line == b".\r\n":
                    data = False
                    self.wfile.write(b"250 OK\r\n")
                else:
                    self.server.received.append(line)
                continue
            verb = line[:4].upper()
            if verb == b"DATA":
                data = True
                self.wfile.write(b"354 go on\r\n")
            elif verb == b"QUIT":
                self.wfile.write(b"221 bye\r\n")
                return
            else:
                self.wfile.write(b"250 OK\r\n")


@contextlib.contextmanager
def mailbox(monkeypatch, to: str = "oncall@example.org"):
    """Alerts mailed to `to` through the Airflow SMTP connection `reportpipe_smtp`, pointed at a local server;
    yields a function that returns the message received."""
    server = socketserver.TCPServer(("127.0.0.1", 0), _Handler)
    server.received = []
    threading.Thread(target=server.serve_forever, daemon=True).start()
    connection = {"conn_type": "smtp", "host": "127.0.0.1", "port": server.server_address[1],
                  "extra": {"from_email": "reportpipe@example.org", "disable_ssl": True, "disable_tls": True}}
    monkeypatch.setenv("AIRFLOW_CONN_REPORTPIPE_SMTP", json.dumps(connection))
    monkeypatch.setenv("REPORTPIPE_ALERT_SMTP_CONN_ID", "reportpipe_smtp")
    monkeypatch.setenv("REPORTPIPE_ALERT_EMAIL", to)
    try:
        yield lambda: email.message_from_bytes(b"".join(server.received))
    finally:
        server.shutdown()
        server.server_close()


def html_part(message: email.message.Message) -> str:
    (body,) = [p.get_payload(decode=True).decode() for p in message.walk() if p.get_content_type() == "text/html"]
    return body
