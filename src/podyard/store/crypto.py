"""Secrets at rest: AES-256-GCM (authenticated encryption, from ``cryptography``).

Each record is sealed with a fresh 96-bit nonce and bound to its owner and name as
associated data, so a sealed value copied into another row does not open. The key is
given by configuration (``PODYARD_SECRET_KEY``, base64 of 32 bytes) or kept in
``DATA_DIR/secret.key``, created 0600 on first start.
"""

from __future__ import annotations

import base64
import binascii
import os
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

NONCE_BYTES = 12


class SealError(Exception):
    pass


def load_key(configured: str | None, key_file: Path) -> bytes:
    if configured:
        try:
            key = base64.b64decode(configured, validate=True)
        except binascii.Error:
            raise SystemExit("PODYARD_SECRET_KEY must be base64 of 32 bytes") from None
        if len(key) != 32:
            raise SystemExit("PODYARD_SECRET_KEY must be base64 of 32 bytes")
        return key
    if key_file.exists():
        return base64.b64decode(key_file.read_text().strip())
    key = AESGCM.generate_key(bit_length=256)
    fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(base64.b64encode(key).decode() + "\n")
    return key


class SecretBox:
    def __init__(self, key: bytes) -> None:
        self._aead = AESGCM(key)

    def seal(self, plaintext: bytes, bound_to: str) -> bytes:
        nonce = os.urandom(NONCE_BYTES)
        return nonce + self._aead.encrypt(nonce, plaintext, bound_to.encode())

    def open(self, sealed: bytes, bound_to: str) -> bytes:
        try:
            return self._aead.decrypt(sealed[:NONCE_BYTES], sealed[NONCE_BYTES:], bound_to.encode())
        except InvalidTag:
            raise SealError("a sealed secret does not open with this key (wrong key, or the row was altered)") from None
