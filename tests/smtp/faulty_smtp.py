"""A real SMTP server (aiosmtpd, writing a maildir) that misbehaves on purpose,
for winback's sending tests:

  --greylist        the first RCPT for each address gets 451 (try later)
  --reject-suffix S addresses whose local part ends with S get 550 (no such user)

    python faulty_smtp.py PORT MAILDIR [--greylist] [--reject-suffix 3]
"""
import argparse
import time

from aiosmtpd.controller import Controller
from aiosmtpd.handlers import Mailbox


class Faulty(Mailbox):
    def __init__(self, maildir, greylist, reject_suffix):
        super().__init__(maildir)
        self.seen = set()
        self.greylist = greylist
        self.reject_suffix = reject_suffix

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
    a = p.parse_args()
    c = Controller(Faulty(a.maildir, a.greylist, a.reject_suffix), hostname="127.0.0.1", port=a.port)
    c.start()
    try:
        while True:
            time.sleep(3600)
    finally:
        c.stop()


if __name__ == "__main__":
    main()
