"""One seeded source of randomness per tenant: ids, tokens, codes and Faker seeds."""

from __future__ import annotations

import binascii
import hashlib
import random
import string

#: Base64's `+` and `/` as the URL-safe alphabet writes them (`base64.urlsafe_b64encode`).
_URL_SAFE = bytes.maketrans(b"+/", b"-_")
#: The version (4) and variant (RFC 4122) bits of a random UUID.
_UUID_CLEAR = ~((0xF000 << 64) | (0xC000 << 48))
_UUID_V4 = (4 << 76) | (0x8000 << 48)
_ALNUM_UPPER = string.ascii_uppercase + string.digits


def uuid4_of(bits: int) -> str:
    """The version-4 UUID string of 128 random bits (see `TenantRandom.uuid4_bits`)."""
    h = (bits & _UUID_CLEAR | _UUID_V4).to_bytes(16, "big").hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def derive_seed(*parts: object) -> int:
    """A stable 64-bit seed from any parts (stable across processes, unlike `hash`)."""
    digest = hashlib.sha256("\x1f".join(str(p) for p in parts).encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big")


class TenantRandom:
    """Deterministic randomness: the same seed and the same calls give the same values."""

    def __init__(self, seed: int):
        self.seed = seed
        self._random = random.Random(seed)

    def uuid4(self) -> str:
        """A version-4 UUID string (the same as `str(uuid.UUID(int=bits, version=4))`, built faster)."""
        return uuid4_of(self._random.getrandbits(128))

    def uuid4_bits(self) -> int:
        """The draw of one `uuid4`, to be spelled later by `uuid4_of` (the same UUID, the same sequence)."""
        return self._random.getrandbits(128)

    def token(self, length: int = 12) -> str:
        """A URL-safe token such as a 12-character `session_token` (letters, digits, `-` and `_`)."""
        size = -(-length * 6 // 8)  # whole bytes for `length` base64 characters of 6 random bits
        # `randbytes(size)` is this (the same bytes), written out to save a call in Python.
        encoded = binascii.b2a_base64(self._random.getrandbits(size * 8).to_bytes(size, "little"), newline=False)
        return encoded[:length].translate(_URL_SAFE).decode("ascii")

    def digits(self, length: int) -> str:
        return "".join(self._random.choice(string.digits) for _ in range(length))

    def alphanumeric(self, length: int) -> str:
        return "".join(self._random.choice(_ALNUM_UPPER) for _ in range(length))

    def random(self) -> float:
        return self._random.random()

    def randint(self, low: int, high: int) -> int:
        return self._random.randint(low, high)

    def choice(self, items):  # type: ignore[no-untyped-def]
        return self._random.choice(items)

    def state(self) -> object:
        return self._random.getstate()

    def set_state(self, state: object) -> None:
        self._random.setstate(state)  # type: ignore[arg-type]
