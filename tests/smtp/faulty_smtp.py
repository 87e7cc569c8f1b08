"""A real SMTP server (aiosmtpd, writing a maildir) that misbehaves on purpose,
for winback's sending tests:

  --greylist        the first RCPT for each address gets 451 (try later)
  --reject-suffix S addresses whose local part ends with S get 550 (no such user)
  --drop-after-data the first message to each address is read to its final dot,
                    then the connection is dropped without a reply (and the
                    message not kept)
  --tls-cert C --tls-key K  offer STARTTLS with this certificate
  --auth USER:PASS  require AUTH with these credentials; AUTH is refused
                    before STARTTLS, and every attempt is logged to
                    MAILDIR/../auth.log as "user tls=True|False ok=True|False"

    python faulty_smtp.py PORT MAILDIR [--greylist] [--reject-suffix 3]
"""
import argparse
import os
import ssl
import time

from aiosmtpd.smtp import AuthResult

from aiosmtpd.controller import Controller
from aiosmtpd.handlers import Mailbox


class Faulty(Mailbox):
    def __init__(self, maildir, greylist, reject_suffix, drop_after_data=False):
        super().__init__(maildir)
        self.seen = set()
        self.dropped = set()
        self.greylist = greylist
        self.reject_suffix = reject_suffix
        self.drop_after_data = drop_after_data

    async def handle_DATA(self, server, session, envelope):
        first = [a for a in envelope.rcpt_tos if a not in self.dropped]
        if self.drop_after_data and first:
            self.dropped.update(first)
            server.transport.close()
            return "421 closing"
        return await super().handle_DATA(server, session, envelope)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        local = address.split("@")[0]
        if self.reject_suffix and local.endswith(self.reject_suffix):
            return "550 5.1.1 <%s>: no such user here" % address
        if self.greylist and address not in self.seen:
            self.seen.add(address)
            return "451 4.7.1 greylisted, try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"


def main():
    p = argparse.ArgumentParser()
    p.add_argument("port", type=int)
    p.add_argument("maildir")
    p.add_argument("--greylist", action="store_true")
    p.add_argument("--reject-suffix", default="")
    p.add_argument("--drop-after-data", action="store_true")
    p.add_argument("--tls-cert")
    p.add_argument("--tls-key")
    p.add_argument("--auth")
    a = p.parse_args()
    extra = {}
    if a.tls_cert:
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ctx.load_cert_chain(a.tls_cert, a.tls_key)
        extra["tls_context"] = ctx
        extra["require_starttls"] = False
    if a.auth:
        user, password = a.auth.split(":", 1)
        log = os.path.join(os.path.dirname(os.path.abspath(a.maildir)), "auth.log")

        def authenticator(server, session, envelope, mechanism, auth_data):
            ok = auth_data.login.decode() == user and auth_data.password.decode() == password
            with open(log, "a") as f:
                f.write("%s tls=%s ok=%s\n" % (auth_data.login.decode(), session.ssl is not None, ok))
            return AuthResult(success=ok)

        extra["authenticator"] = authenticator
        extra["auth_require_tls"] = True
        extra["auth_required"] = True
    c = Controller(
        Faulty(a.maildir, a.greylist, a.reject_suffix, a.drop_after_data), hostname="127.0.0.1", port=a.port, **extra
    )
    c.start()
    try:
        while True:
            time.sleep(3600)
    finally:
        c.stop()


if __name__ == "__main__":
    main()
