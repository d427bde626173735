#!/usr/bin/env python3
"""Measures one sweep's peak RSS and duration, for sizing the Lambda (template.yaml MemorySize/Timeout).

Starts moto server and N local HTTPS OIDC issuers (each its own port, so each is a separate TLS
probe; chains generated now: root -> intermediate -> leaf for 127.0.0.1, the root in a temporary
EXTRA_TRUST_ANCHORS_PEM), registers N IAM OIDC providers (a quarter of them with a stale thumbprint,
so the report has findings), then runs `BINARY sweep --json` under /usr/bin/time -v and prints the
peak RSS, wall time and CPU time. Stops everything it started.

Usage: .venv/bin/python scripts/measure-sweep.py target/release/thumbprint-guard [N ...]
(N defaults to 10 50 200). Needs the .venv (moto, boto3, cryptography) and /usr/bin/time.
"""

import base64
import datetime
import json
import os
import re
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import boto3
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

REGION = "us-east-1"
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def name(cn):
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def issue(subject, key, issuer, issuer_key, ca, san=None):
    now = datetime.datetime.now(datetime.timezone.utc)
    builder = (
        x509.CertificateBuilder()
        .subject_name(name(subject))
        .issuer_name(name(issuer))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=365))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if ca:
        builder = builder.add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True
        )
    if san:
        import ipaddress

        builder = builder.add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address(san))]), critical=False
        ).add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
    return builder.sign(issuer_key, hashes.SHA256())


def pem(cert):
    return cert.public_bytes(serialization.Encoding.PEM)


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class Issuer:
    """One HTTPS issuer: discovery document and JWKS, chain leaf + intermediate."""

    def __init__(self, root, root_key, workdir, index):
        self.port = free_port()
        self.base = f"https://127.0.0.1:{self.port}"
        int_key = ec.generate_private_key(ec.SECP256R1())
        intermediate = issue(f"measure intermediate {index}", int_key, "measure root", root_key, True)
        leaf_key = ec.generate_private_key(ec.SECP256R1())
        leaf = issue("127.0.0.1", leaf_key, f"measure intermediate {index}", int_key, False, "127.0.0.1")
        self.top_sha1 = intermediate.fingerprint(hashes.SHA1()).hex()
        chain_file = os.path.join(workdir, f"chain-{index}.pem")
        key_file = os.path.join(workdir, f"key-{index}.pem")
        with open(chain_file, "wb") as f:
            f.write(pem(leaf) + pem(intermediate))
        with open(key_file, "wb") as f:
            f.write(
                leaf_key.private_bytes(
                    serialization.Encoding.PEM,
                    serialization.PrivateFormat.PKCS8,
                    serialization.NoEncryption(),
                )
            )
        jwk_key = ec.generate_private_key(ec.SECP256R1()).public_key().public_numbers()
        jwks = {"keys": [{"kty": "EC", "crv": "P-256", "use": "sig", "alg": "ES256", "kid": "k",
                          "x": b64url(jwk_key.x.to_bytes(32, "big")),
                          "y": b64url(jwk_key.y.to_bytes(32, "big"))}]}
        base = self.base

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                if self.path.endswith("/.well-known/openid-configuration"):
                    issuer = base + self.path[: -len("/.well-known/openid-configuration")]
                    body = {"issuer": issuer, "jwks_uri": issuer + "/keys",
                            "response_types_supported": ["id_token"],
                            "subject_types_supported": ["public"],
                            "id_token_signing_alg_values_supported": ["ES256"]}
                elif self.path.endswith("/keys"):
                    body = jwks
                else:
                    self.send_response(404)
                    self.end_headers()
                    return
                data = json.dumps(body).encode()
                self.send_response(200)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(chain_file, key_file)
        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


def start_moto():
    port = free_port()
    proc = subprocess.Popen(
        [os.path.join(ROOT, ".venv/bin/moto_server"), "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    endpoint = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            urllib.request.urlopen(endpoint + "/moto-api/")
            return proc, endpoint
        except Exception:
            time.sleep(0.1)
    proc.kill()
    raise SystemExit("measure-sweep: moto server did not start")


def measure(binary, count):
    workdir = tempfile.mkdtemp(prefix="measure-sweep-")
    root_key = ec.generate_private_key(ec.SECP256R1())
    root = issue("measure root", root_key, "measure root", root_key, True)
    anchors = os.path.join(workdir, "anchors.pem")
    with open(anchors, "wb") as f:
        f.write(pem(root))
    moto, endpoint = start_moto()
    issuers = []
    try:
        iam = boto3.client("iam", endpoint_url=endpoint, region_name=REGION,
                           aws_access_key_id="testing", aws_secret_access_key="testing")
        for index in range(count):
            issuer = Issuer(root, root_key, workdir, index)
            issuers.append(issuer)
            thumbprint = "0" * 40 if index % 4 == 0 else issuer.top_sha1
            iam.create_open_id_connect_provider(
                Url=f"{issuer.base}/id/P{index}", ClientIDList=["sts.amazonaws.com"],
                ThumbprintList=[thumbprint])
        env = {
            "PATH": os.environ.get("PATH", ""),
            "AWS_ENDPOINT_URL": endpoint,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_REGION": REGION,
            "AWS_EC2_METADATA_DISABLED": "true",
            "AWS_CONFIG_FILE": "/dev/null",
            "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
            "EXTRA_TRUST_ANCHORS_PEM": anchors,
            "ALLOW_PRIVATE_ADDRESSES": "true",
            "EKS_REGIONS": REGION,
        }
        run = subprocess.run(["/usr/bin/time", "-v", binary, "sweep", "--json"], env=env,
                             capture_output=True, text=True)
        report = json.loads(run.stdout)
        stats = run.stderr
        peak_kb = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", stats).group(1))
        wall = re.search(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): ([\d:.]+)", stats).group(1)
        user = float(re.search(r"User time \(seconds\): ([\d.]+)", stats).group(1))
        system = float(re.search(r"System time \(seconds\): ([\d.]+)", stats).group(1))
        probed = sum(1 for p in report["providers"] if p["endpoints"])
        print(f"providers={count} probed={probed} critical={report['summary']['critical']} "
              f"exit={run.returncode} peak_rss={peak_kb / 1024:.1f} MiB wall={wall} "
              f"cpu={user + system:.2f} s (user {user:.2f}, sys {system:.2f})", flush=True)
    finally:
        for issuer in issuers:
            issuer.stop()
        moto.kill()
        moto.wait()


def main():
    if len(sys.argv) < 2:
        raise SystemExit(__doc__)
    binary = sys.argv[1]
    counts = [int(n) for n in sys.argv[2:]] or [10, 50, 200]
    for count in counts:
        measure(binary, count)


if __name__ == "__main__":
    main()
