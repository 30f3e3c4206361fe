"""A WebSocket client that speaks exactly what the ``jdc`` CLI speaks.

Same library (websocket-client), same URL (``ws://`` + the SDK's path), same signing
(the SDK's Signer over GET, the URL and ``content-type``), same frames: input as
binary frames, 0x04 as end of input; output as binary frames (stdout), JSON text
frames (``streamType`` stderr, or ``type`` error).
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any

import websocket
from jdcloud_sdk.core.credential import Credential
from jdcloud_sdk.core.logger import Logger
from jdcloud_sdk.core.signer import Signer

from drive.jd import REGION, Account


@dataclass
class Received:
    stdout: bytes = b""
    stderr: str = ""
    errors: list[str] = field(default_factory=list)
    closed: bool = False


def signed_headers(account: Account, url: str, region: str = REGION) -> dict[str, str]:
    headers = {"content-type": "application/json"}
    Signer(Logger(0)).sign(
        "GET", "pod", region, url, headers, "", Credential(account.access_key, account.secret_key), ""
    )
    return headers


class JdcStream:
    def __init__(
        self,
        endpoint: str,
        account: Account,
        pod_id: str,
        container: str,
        action: str,
        exec_id: str | None = None,
        timeout: float = 30,
    ) -> None:
        url = f"ws://{endpoint}/v1/regions/{REGION}/pods/{pod_id}/containers/{container}:{action}"
        if exec_id:
            url += f"?execId={exec_id}"
        self.ws = websocket.create_connection(url, timeout=timeout, header=signed_headers(account, url))
        self.got = Received()

    def send(self, data: bytes | str) -> None:
        self.ws.send_binary(data.encode() if isinstance(data, str) else data)

    def end_input(self) -> None:
        self.ws.send_binary(b"\x04")

    def _take(self, opcode: int, data: Any) -> None:
        if opcode == websocket.ABNF.OPCODE_BINARY:
            self.got.stdout += data
        elif opcode == websocket.ABNF.OPCODE_TEXT:
            message = json.loads(data)
            if message.get("type") == "error":
                self.got.errors.append(message["message"])
            elif message.get("streamType") == "stderr":
                self.got.stderr += message["output"]
            else:
                self.got.stdout += message["output"].encode()

    def read_until(self, text: bytes, timeout: float = 30) -> Received:
        deadline = time.monotonic() + timeout
        while text not in self.got.stdout and not self.got.closed:
            if time.monotonic() > deadline:
                raise AssertionError(f"{text!r} did not arrive; got {self.got}")
            self.read_one(timeout=deadline - time.monotonic())
        return self.got

    def read_one(self, timeout: float = 30) -> None:
        self.ws.settimeout(timeout)
        try:
            opcode, data = self.ws.recv_data()
        except websocket.WebSocketConnectionClosedException:
            self.got.closed = True
            return
        if opcode == websocket.ABNF.OPCODE_CLOSE:
            self.got.closed = True
            return
        self._take(opcode, data)

    def read_to_end(self, timeout: float = 60) -> Received:
        deadline = time.monotonic() + timeout
        while not self.got.closed:
            if time.monotonic() > deadline:
                raise AssertionError(f"the stream did not end; got {self.got}")
            self.read_one(timeout=deadline - time.monotonic())
        return self.got

    def close(self) -> None:
        self.ws.close()
