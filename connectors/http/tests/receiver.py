#!/usr/bin/env python3
"""A real HTTP receiver for the HTTP sink's end-to-end tests.

Records every request (method, path, headers, body, the status it answered, the time) as one
JSON line in --log, before answering, so a test sees requests even when the receiver is
killed. What it answers is steered through POST /__control with a JSON plan:

  {"rules": [{"status": 503, "retry_after": "1", "times": 2, "match": "…",
              "body": "…", "delay_ms": 0}]}

Each request takes the first rule whose "match" (a substring of the body; absent matches
everything) applies; a rule with "times" is used that many times, then dropped. No rule:
200. "delay_ms" holds the answer back (to kill a worker while a request is under way).

With --tls-dir the receiver makes a private CA and a server certificate for 127.0.0.1 and
localhost (python `cryptography`, else the openssl command; RECEIVER_CERTS=openssl forces the
latter), writes ca.pem there and serves HTTPS.

Prints "LISTENING <port>" once it accepts connections.
"""

import argparse
import datetime
import json
import os
import ssl
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

LOCK = threading.Lock()
RULES = []


def make_certificates_with_openssl(directory):
    """The same CA and server certificate made with the openssl command."""
    import subprocess

    def run(*args):
        subprocess.run(["openssl", *args], cwd=directory, check=True, capture_output=True)

    curve = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    run("req", "-x509", *curve, "-keyout", "ca.key", "-out", "ca.pem", "-days", "1",
        "-subj", "/CN=sluice test CA", "-addext", "basicConstraints=critical,CA:TRUE",
        "-addext", "keyUsage=critical,keyCertSign,cRLSign")
    run("req", *curve, "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=127.0.0.1")
    with open(os.path.join(directory, "server.ext"), "w", encoding="utf-8") as f:
        f.write("subjectAltName=DNS:localhost,IP:127.0.0.1\n"
                "basicConstraints=critical,CA:FALSE\nextendedKeyUsage=serverAuth\n")
    run("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
        "-CAcreateserial", "-out", "server.pem", "-days", "1", "-extfile", "server.ext")


def make_certificates(directory):
    try:
        if os.environ.get("RECEIVER_CERTS") == "openssl":
            raise ImportError("openssl asked for")
        from cryptography import x509
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import ec
        from cryptography.x509.oid import NameOID
    except ImportError as error:
        try:
            return make_certificates_with_openssl(directory)
        except (OSError, Exception) as openssl_error:
            sys.exit(
                "--tls-dir needs the python package cryptography (pip install cryptography) "
                f"or the openssl command: {error}; openssl: {openssl_error}"
            )
    import ipaddress

    now = datetime.datetime.now(datetime.timezone.utc)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "sluice test CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True, content_commitment=False, key_encipherment=False,
                data_encipherment=False, key_agreement=False, key_cert_sign=True,
                crl_sign=True, encipher_only=False, decipher_only=False,
            ),
            critical=True,
        )
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    pem = serialization.Encoding.PEM
    with open(os.path.join(directory, "ca.pem"), "wb") as f:
        f.write(ca.public_bytes(pem))
    with open(os.path.join(directory, "server.pem"), "wb") as f:
        f.write(cert.public_bytes(pem))
    with open(os.path.join(directory, "server.key"), "wb") as f:
        f.write(
            key.private_bytes(
                pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
        )


def pick_rule(body):
    with LOCK:
        for index, rule in enumerate(RULES):
            if "match" in rule and rule["match"] not in body:
                continue
            if "times" in rule:
                rule["times"] -= 1
                if rule["times"] <= 0:
                    RULES.pop(index)
            return dict(rule)
    return {}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    log_path = None

    def log_message(self, *args):
        pass

    def answer(self, status, body=b"", headers=()):
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def handle_any(self):
        length = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(length).decode("utf-8", "replace")
        if self.path == "/__control":
            plan = json.loads(body or "{}")
            with LOCK:
                RULES[:] = plan.get("rules", [])
            return self.answer(204)
        rule = pick_rule(body)
        status = int(rule.get("status", 200))
        entry = {
            "time": time.time(),
            "method": self.command,
            "path": self.path,
            "headers": {k.lower(): v for k, v in self.headers.items()},
            "body": body,
            "status": status,
        }
        with LOCK:
            with open(self.log_path, "a", encoding="utf-8") as log:
                log.write(json.dumps(entry) + "\n")
        if rule.get("delay_ms"):
            time.sleep(rule["delay_ms"] / 1000.0)
        headers = []
        if "retry_after" in rule:
            headers.append(("Retry-After", str(rule["retry_after"])))
        try:
            self.answer(status, rule.get("body", "").encode(), headers)
        except OSError:
            pass  # the client went away (a killed worker)

    do_POST = handle_any
    do_PUT = handle_any


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--log", required=True)
    parser.add_argument("--tls-dir")
    args = parser.parse_args()
    Handler.log_path = args.log
    ThreadingHTTPServer.allow_reuse_address = True
    ThreadingHTTPServer.daemon_threads = True
    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    if args.tls_dir:
        make_certificates(args.tls_dir)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(
            os.path.join(args.tls_dir, "server.pem"), os.path.join(args.tls_dir, "server.key")
        )
        server.socket = context.wrap_socket(server.socket, server_side=True)
    print(f"LISTENING {server.server_address[1]}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
