"""Room tokens: a signed, expiring pass naming one room, one role and a display name.

A token is `<payload>.<signature>`, both base64url; the payload is JSON and the signature is
HMAC-SHA256 over it with the server's secret. Only the server (or whoever holds its secret) can
mint one; a viewer's token cannot be turned into a host's, and none outlives its expiry.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import secrets
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass

ROLES = ("host", "viewer", "agent")
ROOM_NAME = re.compile(r"^[A-Za-z0-9_-]{1,40}$")
TOKEN_SHAPE = re.compile(r"^[A-Za-z0-9_-]{1,2000}\.[A-Za-z0-9_-]{43}$")  # base64url payload . 32-byte signature
MAX_SEATS = 64
MAX_NAME_CHARS = 40
DEFAULT_TTL_S = 12 * 3600  # a long stream; the host page can always mint fresh ones


class TokenError(ValueError):
    """A token that does not admit its bearer; the message says why in one sentence."""


@dataclass(frozen=True)
class Pass:
    room: str
    role: str
    name: str
    exp: float  # unix time after which the token is refused
    seats: int = 2  # connections this one token may hold in its room at once (a shared link gets more)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class Tokens:
    def __init__(self, secret: bytes | str | None = None, clock: Callable[[], float] = time.time):
        if isinstance(secret, str):
            secret = secret.encode()
        self._secret = secret or secrets.token_bytes(32)
        self._now = clock

    def mint(self, room: str, role: str, name: str, ttl_s: float = DEFAULT_TTL_S, seats: int = 2) -> str:
        check_room(room)
        if role not in ROLES:
            raise TokenError(f"role '{role}' is not one of {', '.join(ROLES)}")
        if not 1 <= seats <= MAX_SEATS:
            raise TokenError(f"seats must be 1..{MAX_SEATS}")
        name = name.strip()[:MAX_NAME_CHARS] or role
        granted = Pass(room, role, name, self._now() + ttl_s, seats)
        payload = json.dumps(asdict(granted), ensure_ascii=False).encode()
        return f"{_b64(payload)}.{_b64(self._sign(payload))}"

    def check(self, token: str | None, room: str | None, roles: tuple[str, ...] = ROLES) -> Pass:
        """The pass a token grants for `room` (None: any room) in one of `roles`; TokenError says why not."""
        if not token:
            raise TokenError("a token is needed to join a room (?token=...)")
        if not TOKEN_SHAPE.match(token):  # base64 decoding skips stray characters: check the exact shape first
            raise TokenError("the token is malformed")
        head, _, signature = token.partition(".")
        try:
            payload, given = _unb64(head), _unb64(signature)
        except (ValueError, TypeError):
            raise TokenError("the token is malformed") from None
        if _b64(payload) != head or _b64(given) != signature:  # one spelling per token, no padding bits
            raise TokenError("the token's signature is not valid (not issued by this server, or altered)")
        if not hmac.compare_digest(given, self._sign(payload)):
            raise TokenError("the token's signature is not valid (not issued by this server, or altered)")
        try:
            granted = Pass(**json.loads(payload))
        except (ValueError, TypeError, RecursionError):
            raise TokenError("the token is malformed") from None
        if not isinstance(granted.exp, int | float) or not isinstance(granted.seats, int):
            raise TokenError("the token is malformed")
        if granted.exp < self._now():
            raise TokenError("the token has expired")
        if room is not None and granted.room != room:
            raise TokenError(f"the token is for room '{granted.room}', not '{room}'")
        if granted.role not in roles:
            raise TokenError(f"a {granted.role} token cannot do this (needs: {' or '.join(roles)})")
        return granted

    def _sign(self, payload: bytes) -> bytes:
        return hmac.new(self._secret, payload, hashlib.sha256).digest()


def check_room(room: str) -> str:
    if not ROOM_NAME.match(room):
        raise TokenError(f"room name '{room[:60]}' must be 1-40 letters, digits, '-' or '_'")
    return room


def same_secret(given: str | None, expected: str) -> bool:
    """A constant-time comparison that takes any text a client sends (non-ASCII included)."""
    if not given:
        return False
    return hmac.compare_digest(given.encode("utf-8", "surrogatepass"), expected.encode("utf-8", "surrogatepass"))
