"""The SMTP server of the test suite: accepts every message on 127.0.0.1:PORT (no TLS, no
auth) and stores it in FOLDER as <n>.eml (the message exactly as received) beside <n>.json
(the envelope: sender and recipients). Usage: smtp_sink.py PORT FOLDER"""

import asyncio
import itertools
import json
import pathlib
import sys

from aiosmtpd.controller import Controller


class Store:
    def __init__(self, folder):
        self.folder = pathlib.Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.numbers = itertools.count(1)

    async def handle_DATA(self, server, session, envelope):
        stem = self.folder / f"{next(self.numbers):06d}"
        stem.with_suffix(".eml").write_bytes(envelope.original_content)
        envelope_json = {"mail_from": envelope.mail_from, "rcpt_tos": envelope.rcpt_tos}
        stem.with_suffix(".json").write_text(json.dumps(envelope_json))
        return "250 Message accepted for delivery"


async def main(port, folder):
    controller = Controller(Store(folder), hostname="127.0.0.1", port=port, decode_data=False)
    controller.start()
    await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]), sys.argv[2]))
