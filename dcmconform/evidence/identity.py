"""User identity negotiation (PS3.7 D.3.3.7; PS3.8 Annex D): the run's credentials, and keeping them secret.

``--username`` (and ``--passcode``) make every association the run opens carry a User Identity
sub-item (58H): the raw probe's requests (:meth:`dcmconform.net.probe.Probe.request`) and pynetdicom's
(:func:`dcmconform.net.assoc.associate`), so that a node that requires user identity can be tested at all.
The run's credentials are process-wide, set once by the session (:func:`use`), like ``busy.armed``.

A passcode (and a Kerberos ticket, SAML assertion or JWT) never reaches evidence: :func:`redact`
overwrites the secret field of every 58H sub-item in the bytes a transcript records, keeping their
length so that the PDU still decodes, and the dump names only the identity type and the username.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from dcmconform.evidence.dump import IDENTITY_TYPES as TYPES
from dcmconform.wire import items as it
from dcmconform.wire import pdus as pd

if TYPE_CHECKING:
    from pynetdicom.pdu_primitives import UserIdentityNegotiation

USERNAME, USERNAME_PASSCODE, KERBEROS, SAML, JWT = 1, 2, 3, 4, 5
MASK = ord("*")
_A_ASSOCIATE_RQ = 0x01


@dataclass(frozen=True)
class Identity:
    """One User Identity sub-item's content. ``repr`` never shows the secret field."""

    kind: int
    primary: bytes
    secondary: bytes = b""
    positive_response: bool = False

    def sub_item(self, positive_response: bool | None = None) -> it.UserIdentityRQSubItem:
        positive = self.positive_response if positive_response is None else positive_response
        return it.UserIdentityRQSubItem(self.kind, int(positive), self.primary, self.secondary)

    def negotiation(self) -> UserIdentityNegotiation:
        from pynetdicom.pdu_primitives import UserIdentityNegotiation

        item = UserIdentityNegotiation()
        item.user_identity_type = self.kind
        item.positive_response_requested = self.positive_response
        item.primary_field = self.primary
        if self.kind == USERNAME_PASSCODE:
            item.secondary_field = self.secondary
        return item

    def __repr__(self) -> str:  # never the passcode or token
        return f"Identity({self.describe()}, positive_response={self.positive_response})"

    def describe(self) -> str:
        if self.kind in (USERNAME, USERNAME_PASSCODE):
            return f"{TYPES[self.kind]} {self.primary.decode('utf-8', 'replace')!r}"
        return TYPES.get(self.kind, f"type {self.kind}")


def from_options(username: str | None, passcode: str | None) -> Identity | None:
    """``--username`` [``--passcode``]: type 2 with a passcode, type 1 without."""
    if not username:
        return None
    if passcode:
        return Identity(USERNAME_PASSCODE, username.encode(), passcode.encode())
    return Identity(USERNAME, username.encode())


_current: Identity | None = None


def use(identity: Identity | None) -> None:
    """Set the run's credentials: every association opened from now on carries them."""
    global _current
    _current = identity


def current() -> Identity | None:
    return _current


def _is_secret(sub: it.UserIdentityRQSubItem) -> tuple[str, ...]:
    """Which fields of a 58H sub-item are secrets: the passcode of type 2, the token of types 3-5."""
    if sub.identity_type == USERNAME:
        return ()
    if sub.identity_type == USERNAME_PASSCODE:
        return ("secondary",)
    return ("primary", "secondary")


def masked(sub: it.UserIdentityRQSubItem) -> it.UserIdentityRQSubItem:
    """``sub`` with its secret fields overwritten by ``*``, same lengths."""
    changes = {name: bytes([MASK]) * len(getattr(sub, name)) for name in _is_secret(sub)}
    return replace(sub, **changes)  # type: ignore[arg-type]


def _masked_sub_items(data: bytes) -> bytes:
    try:
        rq = pd.decode_pdu(data)
    except Exception:  # noqa: BLE001 - a request that does not decode is masked by the run's secrets below
        return data
    user = getattr(rq, "user_information", None)
    for sub in user.items if user is not None else []:
        if isinstance(sub, it.UserIdentityRQSubItem) and _is_secret(sub):
            data = data.replace(sub.encode(), masked(sub).encode())
    return data


def redact(data: bytes) -> bytes:
    """``data`` (what we sent: a PDU, or part of one) with every credential in it masked, same length.

    An A-ASSOCIATE-RQ has the secret fields of its 58H sub-items masked, whoever made them; and the run's
    own secret (``--passcode``) is masked wherever it occurs, even in a request a check broke on purpose
    or sent in pieces (only a secret of 4 bytes or more: a shorter one would mask unrelated bytes)."""
    if data[:1] == bytes([_A_ASSOCIATE_RQ]) and b"\x58" in data:
        data = _masked_sub_items(data)
    who = _current
    for name in _is_secret(who.sub_item()) if who is not None else ():
        secret = getattr(who, name)
        if len(secret) >= 4 and secret in data:
            data = data.replace(secret, bytes([MASK]) * len(secret))
    return data
