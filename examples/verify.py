#!/usr/bin/env python3
"""examples/verify.py -- verify a VNeID identity assertion with eidd.

A minimal portal integration of eidd's HTTPS/JSON gateway, in Python 3
with the standard library only (ssl, http.client, json): it sends one
token to POST /v1/verify over mutual TLS and prints the verdict and, when
the verdict is "ok", the citizen's identity.

    verify.py [--url https://127.0.0.1:7444] [--cert F --key F --ca F]
              [--audience A] [--min-level N] [--consume] [--nonce N]
              [--timeout S] TOKEN|-

"-" reads the token from standard input, which keeps it out of the
process list.  --cert, --key and --ca default to EID_CERT, EID_KEY and
EID_CA, and --url to EID_URL.

Exit status: 0 the token is ok, 1 eidd refused it (any other verdict),
2 any error (usage, connection, TLS, an error answer of eidd).

A portal imports verify_token() and keeps one connection per worker: see
examples/README.md.  The rules it follows are the ones every caller of
eidd must follow: verify the server's certificate against the CA given
(never the system's trust store, never "verify=False"), treat only the
verdict "ok" as success, and treat anything unexpected as a failure.
"""

import argparse
import http.client
import json
import os
import ssl
import sys
import time
import urllib.parse

EXIT_OK = 0
EXIT_REJECTED = 1
EXIT_ERROR = 2

TOKEN_MAX = 16384  # bytes of a compact token, as eidd accepts them
DEFAULT_URL = "https://127.0.0.1:7444"


class VerifyError(Exception):
    """eidd could not be asked, or answered with an error.

    code is eidd's error code ("bad_request", "forbidden", ...) or one of
    ours ("connect", "tls", "protocol"); status the HTTP status, if any.
    """

    def __init__(self, code, message, status=None):
        super().__init__("%s: %s" % (code, message))
        self.code = code
        self.message = message
        self.status = status


def tls_context(cert, key, ca):
    """A client context: TLS 1.2 or later, eidd's certificate checked
    against ca only, and our certificate for mutual TLS."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)  # checks names too
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.load_verify_locations(cafile=ca)
    ctx.load_cert_chain(certfile=cert, keyfile=key)
    return ctx


def connect(url, ctx, timeout=10.0):
    """An HTTPS connection to the gateway at url (scheme, host, port)."""
    u = urllib.parse.urlsplit(url)
    if u.scheme != "https" or not u.hostname:
        raise VerifyError("usage", "the URL must be https://HOST[:PORT]")
    return http.client.HTTPSConnection(u.hostname, u.port or 443,
                                       context=ctx, timeout=timeout)


def verify_token(conn, token, audience="", min_level=0, consume=False,
                 nonce="", base_path=""):
    """Ask eidd about one token; return its answer as a dict.

    The dict has "verdict" (lower case: "ok", "expired", ...) and
    "cached", and for "ok" also "identity" (sub, name, birthdate, gender,
    level) and the token's times and identifiers.  Raises VerifyError when
    there is no verdict.  conn may be reused for the next token.
    """
    body = json.dumps({"token": token, "audience": audience,
                       "min_level": min_level, "consume": consume,
                       "nonce": nonce}).encode("utf-8")
    headers = {"Content-Type": "application/json",
               "Accept": "application/json"}
    try:
        conn.request("POST", base_path + "/v1/verify", body, headers)
        resp = conn.getresponse()
        data = resp.read()
    except ssl.SSLError as e:
        conn.close()
        raise VerifyError("tls", str(e)) from None
    except (OSError, http.client.HTTPException) as e:
        conn.close()
        raise VerifyError("connect", str(e) or type(e).__name__) from None
    try:
        answer = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        answer = None
    if resp.status != 200:
        err = answer.get("error") if isinstance(answer, dict) else None
        if isinstance(err, dict):
            raise VerifyError(str(err.get("code", "unknown")),
                              str(err.get("message", "")), resp.status)
        raise VerifyError("protocol", "HTTP %d %s" % (resp.status,
                                                        resp.reason),
                          resp.status)
    # Fail closed: an answer without a verdict string is not an answer.
    if not isinstance(answer, dict) or \
            not isinstance(answer.get("verdict"), str):
        raise VerifyError("protocol", "the answer has no verdict",
                          resp.status)
    if answer["verdict"] == "ok" and \
            not isinstance(answer.get("identity"), dict):
        raise VerifyError("protocol", "an ok answer without an identity",
                          resp.status)
    return answer


def visible(value):
    """A server string made safe for a terminal: control characters and
    backslashes shown as \\xNN, so that it cannot forge lines."""
    s = str(value)
    return "".join("\\x%02x" % ord(c)
                   if ord(c) < 0x20 or c in "\x7f\\" or 0x80 <= ord(c) < 0xa0
                   else c for c in s)


def utc(t):
    """Seconds since the epoch as an ISO 8601 UTC time, or "?"."""
    try:
        return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(int(t)))
    except (TypeError, ValueError, OverflowError, OSError):
        return "?"


def print_answer(answer, out=sys.stdout):
    out.write(visible(answer["verdict"]) + "\n")
    identity = answer.get("identity")
    if answer["verdict"] == "ok" and isinstance(identity, dict):
        for k in ("sub", "name", "birthdate", "gender", "level"):
            if k in identity:
                out.write("  %-11s %s\n" % (k, visible(identity[k])))
    for k in ("token_id", "issuer", "key_id", "algorithm", "audience",
              "issued_at", "not_before", "expires_at"):
        v = answer.get(k)
        if v is None or v == "" or v == 0:
            continue
        if k.endswith("_at") or k == "not_before":
            v = "%s (%s)" % (v, utc(v))
        out.write("  %-11s %s\n" % (k, visible(v)))
    out.write("  %-11s %s\n" % ("cached",
                                 "yes" if answer.get("cached") is True
                                 else "no"))


def read_token(arg):
    if arg != "-":
        return arg
    line = sys.stdin.readline(TOKEN_MAX + 2)
    return line.strip()


def main(argv=None):
    p = argparse.ArgumentParser(
        description="Verify an eid identity assertion with eidd's "
        "HTTPS gateway.",
        epilog="exit status: 0 ok, 1 refused, 2 error")
    p.add_argument("--url", default=os.environ.get("EID_URL") or DEFAULT_URL,
                   help="the gateway (default: EID_URL, else %(default)s)")
    p.add_argument("--cert", default=os.environ.get("EID_CERT"),
                   help="client certificate, PEM (default: EID_CERT)")
    p.add_argument("--key", default=os.environ.get("EID_KEY"),
                   help="its private key, PEM (default: EID_KEY)")
    p.add_argument("--ca", default=os.environ.get("EID_CA"),
                   help="CA file for eidd's certificate (default: EID_CA)")
    p.add_argument("--audience", default="",
                   help="audience to verify for (default: the principal's "
                   "first)")
    p.add_argument("--min-level", type=int, choices=(0, 1, 2), default=0,
                   help="lowest eid_level accepted (default 0)")
    p.add_argument("--consume", action="store_true",
                   help="accept the token once only")
    p.add_argument("--nonce", default="",
                   help="the nonce the token must carry")
    p.add_argument("--timeout", type=float, default=10.0,
                   help="seconds to wait for eidd (default 10)")
    p.add_argument("token", metavar="TOKEN|-",
                   help="the token, or - to read it from standard input")
    try:
        a = p.parse_args(argv)
    except SystemExit as e:
        return EXIT_OK if e.code == 0 else EXIT_ERROR
    for name in ("cert", "key", "ca"):
        if not getattr(a, name):
            print("verify.py: --%s (or EID_%s) is required" %
                  (name, name.upper()), file=sys.stderr)
            return EXIT_ERROR
    token = read_token(a.token)
    if not token or len(token.encode("utf-8")) > TOKEN_MAX:
        print("verify.py: the token must be 1..%d bytes" % TOKEN_MAX,
              file=sys.stderr)
        return EXIT_ERROR
    try:
        ctx = tls_context(a.cert, a.key, a.ca)
    except (OSError, ssl.SSLError) as e:
        print("verify.py: cannot load the certificates: %s" % e,
              file=sys.stderr)
        return EXIT_ERROR
    base = urllib.parse.urlsplit(a.url).path.rstrip("/")
    conn = None
    try:
        conn = connect(a.url, ctx, a.timeout)
        answer = verify_token(conn, token, a.audience, a.min_level,
                              a.consume, a.nonce, base)
    except VerifyError as e:
        print("verify.py: %s: %s" % (visible(e.code), visible(e.message)),
              file=sys.stderr)
        return EXIT_ERROR
    finally:
        if conn is not None:
            conn.close()
    print_answer(answer)
    return EXIT_OK if answer["verdict"] == "ok" else EXIT_REJECTED


if __name__ == "__main__":
    sys.exit(main())
