#!/usr/bin/env python3
"""An OIDC issuer as many real ones are: Python's standard library over TLS, HTTP/1.1 only.

Started by tests/support/peer.rs, never by hand in a test run. It serves, for every issuer path
prefix /id/NAME:

  /id/NAME/.well-known/openid-configuration  issuer https://127.0.0.1:PORT/id/NAME,
                                             jwks_uri https://127.0.0.1:PORT/id/NAME/keys
  /id/NAME/keys                              a JWKS with the one signing key of --config

and answers anything else as http.server answers a missing file: 404 with an HTML page and
"Connection: close" (then it closes the connection, whatever the flags). ALPN offers http/1.1
only; responses are HTTP/1.1 with keep-alive unless a flag says otherwise:

  --close-every-response  every response says "Connection: close", then the connection closes
                          (HTTP/1.0-style servers, many load balancers)
  --max-requests N        the connection closes after its Nth response; the Nth says
                          "Connection: close" (nginx's keepalive_requests) unless
  --silent-close          is given too: then the socket just closes after the Nth response
  --delay-ms D            sleep D ms before each response

--config FILE is JSON: {"jwk": {...}, "issuers": {"NAME": {"discovery": "not-found" |
"issuer-mismatch", "jwks": "empty"}}}; a NAME absent from "issuers" is served well.

Stdout: the TLS port on the first line, the stats port on the second. GET /stats on the stats
port (plain HTTP) answers the counters as JSON: TCP connections accepted, TLS handshakes
completed and failed, requests and their paths, connections open now and the most ever open at
once. The process exits when its stdin closes.
"""

import argparse
import json
import os
import socket
import ssl
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

DISCOVERY_SUFFIX = "/.well-known/openid-configuration"
KEYS_SUFFIX = "/keys"
# Bounds a handshake and an idle keep-alive connection, so no thread outlives a test for long.
HANDSHAKE_TIMEOUT_S = 10
IDLE_TIMEOUT_S = 60


class Counters:
    """What the stats port reports; every change under one lock."""

    def __init__(self):
        self.lock = threading.Lock()
        self.connections = 0
        self.handshakes = 0
        self.handshake_failures = 0
        self.requests = 0
        self.paths = []
        self.open = 0
        self.max_open = 0

    def accepted(self):
        with self.lock:
            self.connections += 1
            self.open += 1
            self.max_open = max(self.max_open, self.open)

    def closed(self):
        with self.lock:
            self.open -= 1

    def handshake(self, ok):
        with self.lock:
            if ok:
                self.handshakes += 1
            else:
                self.handshake_failures += 1

    def request(self, path):
        with self.lock:
            self.requests += 1
            self.paths.append(path)

    def snapshot(self):
        with self.lock:
            return {
                "connections": self.connections,
                "handshakes": self.handshakes,
                "handshake_failures": self.handshake_failures,
                "requests": self.requests,
                "paths": list(self.paths),
                "open": self.open,
                "max_open": self.max_open,
            }


class IssuerHandler(BaseHTTPRequestHandler):
    """One TLS connection: requests in turn, as long as the connection policy allows."""

    protocol_version = "HTTP/1.1"
    timeout = IDLE_TIMEOUT_S

    def setup(self):
        super().setup()
        self.served_here = 0

    def log_message(self, format, *args):  # noqa: A002 - the base class's signature
        pass

    def do_GET(self):  # noqa: N802 - http.server's naming
        server = self.server
        path = urlsplit(self.path).path
        server.counters.request(path)
        if server.delay_s > 0:
            time.sleep(server.delay_s)
        document = server.route(path)
        self.served_here += 1
        if document is None:
            # As http.server answers a missing file: an HTML error page and "Connection: close",
            # whatever the connection policy.
            self.send_error(404)
            return
        body = json.dumps(document).encode()
        closing = server.close_every_response or (
            server.max_requests is not None and self.served_here >= server.max_requests
        )
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        if closing and not server.silent_close:
            self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body)
        if closing:
            self.close_connection = True


class IssuerServer(ThreadingHTTPServer):
    """Accepts TCP on the listener thread; the TLS handshake and the requests run on the
    connection's own thread."""

    daemon_threads = True
    request_queue_size = 128

    def __init__(self, tls, options, config):
        super().__init__(("127.0.0.1", 0), IssuerHandler)
        self.tls = tls
        self.counters = Counters()
        self.close_every_response = options.close_every_response
        self.max_requests = options.max_requests
        self.silent_close = options.silent_close
        self.delay_s = options.delay_ms / 1000.0
        self.jwk = config.get("jwk")
        self.issuers = config.get("issuers", {})
        self.base = f"https://127.0.0.1:{self.server_address[1]}"

    def get_request(self):
        request = super().get_request()
        self.counters.accepted()
        return request

    def finish_request(self, request, client_address):
        request.settimeout(HANDSHAKE_TIMEOUT_S)
        try:
            connection = self.tls.wrap_socket(request, server_side=True)
        except (OSError, ssl.SSLError):
            self.counters.handshake(False)
            return
        self.counters.handshake(True)
        try:
            connection.settimeout(None)
            self.RequestHandlerClass(connection, client_address, self)
        finally:
            # As http.server over ssl closes: TCP FIN without a TLS close_notify.
            try:
                connection.shutdown(socket.SHUT_WR)
            except OSError:
                pass
            connection.close()

    def shutdown_request(self, request):
        super().shutdown_request(request)
        self.counters.closed()

    def handle_error(self, request, client_address):
        # A client that goes away mid-exchange is part of the tests, not an error to print.
        pass

    def route(self, path):
        """The JSON document of a request path; None: 404."""
        for suffix, kind in ((DISCOVERY_SUFFIX, "discovery"), (KEYS_SUFFIX, "jwks")):
            if not path.endswith(suffix):
                continue
            prefix = path[: -len(suffix)]
            parts = prefix.split("/")
            if len(parts) != 3 or parts[0] != "" or parts[1] != "id" or not parts[2]:
                break
            name = parts[2]
            override = self.issuers.get(name, {}).get(kind)
            issuer = self.base + prefix
            if kind == "discovery":
                if override == "not-found":
                    return None
                served_issuer = issuer + "-elsewhere" if override == "issuer-mismatch" else issuer
                return {
                    "issuer": served_issuer,
                    "jwks_uri": issuer + KEYS_SUFFIX,
                    "authorization_endpoint": "urn:kubernetes:programmatic_authorization",
                    "response_types_supported": ["id_token"],
                    "subject_types_supported": ["public"],
                    "claims_supported": ["sub", "iss"],
                    "id_token_signing_alg_values_supported": ["ES256"],
                }
            if override == "empty":
                return {"keys": []}
            return {"keys": [self.jwk]}
        return None


class StatsHandler(BaseHTTPRequestHandler):
    """GET /stats: the counters as JSON (plain HTTP, one request per connection)."""

    def log_message(self, format, *args):  # noqa: A002
        pass

    def do_GET(self):  # noqa: N802
        if self.path != "/stats":
            self.send_error(404)
            return
        body = json.dumps(self.server.issuer.counters.snapshot()).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cert", required=True, help="PEM chain, leaf first")
    parser.add_argument("--key", required=True, help="PEM private key of the leaf")
    parser.add_argument("--config", help="JSON: the JWK and per-issuer replies")
    parser.add_argument("--close-every-response", action="store_true")
    parser.add_argument("--max-requests", type=int)
    parser.add_argument("--silent-close", action="store_true")
    parser.add_argument("--delay-ms", type=int, default=0)
    options = parser.parse_args()
    if options.max_requests is not None and options.max_requests < 1:
        parser.error("--max-requests must be at least 1")

    config = {}
    if options.config:
        with open(options.config, encoding="utf-8") as file:
            config = json.load(file)

    tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    tls.load_cert_chain(certfile=options.cert, keyfile=options.key)
    tls.set_alpn_protocols(["http/1.1"])

    issuer = IssuerServer(tls, options, config)
    stats = ThreadingHTTPServer(("127.0.0.1", 0), StatsHandler)
    stats.daemon_threads = True
    stats.issuer = issuer
    for server in (issuer, stats):
        threading.Thread(target=server.serve_forever, daemon=True).start()

    print(issuer.server_address[1], flush=True)
    print(stats.server_address[1], flush=True)
    # Runs until the test closes stdin (or kills the process).
    for _ in sys.stdin:
        pass
    os._exit(0)


if __name__ == "__main__":
    main()
