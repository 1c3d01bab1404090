"""User identity negotiation (PS3.7 D.3.3.7; PS3.8 Annex D): the run's credentials, and keeping them secret.

``--username`` (and ``--passcode``) make every association the run opens carry a User Identity
sub-item (58H): the raw probe's requests (:meth:`dcmconform.net.probe.Probe.request`) and pynetdicom's
(:func:`dcmconform.net.assoc.associate`), so that a node that requires user identity can be tested at all.
The run's credentials are process-wide, set once by the session (:func:`use`), like ``busy.armed``.

A passcode (and a Kerberos ticket, SAML assertion or JWT) never reaches evidence: :func:`redact`
overwrites the secret field of every 58H sub-item in the bytes a transcript records (sent and received:
a node may quote what it was sent), keeping their length so that the PDU still decodes, and the dump
names only the identity type and the username. Text is redacted too, whoever wrote it: :func:`redact_text`
replaces the run's secret, in its plain, hex and base64 forms, by :data:`MASK_TEXT` (a fixed length: the
mask does not tell the secret's length), and every writer reaches it (:func:`dcmconform.base.text.printable`,
the plugin's results, the JSON document, every log record).
"""

from __future__ import annotations

import base64
import logging
import re
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from dcmconform.base import text as _text
from dcmconform.evidence.dump import IDENTITY_TYPES as TYPES
from dcmconform.wire import items as it
from dcmconform.wire import pdus as pd

if TYPE_CHECKING:
    from pynetdicom.pdu_primitives import UserIdentityNegotiation

USERNAME, USERNAME_PASSCODE, KERBEROS, SAML, JWT = 1, 2, 3, 4, 5
MASK = ord("*")
MASK_TEXT = "[secret]"  # what text shows instead of a secret, whatever its length
SHORTEST = 4  # a secret shorter than this is not searched for: it would mask unrelated bytes and words
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
_forms: re.Pattern[str] | None = None  # the run's secrets as text, in every form :func:`redact_text` masks
_masked: re.Pattern[str] | None = None  # a secret masked in bytes (``*`` as long as it), as a dump shows it


def use(identity: Identity | None) -> None:
    """Set the run's credentials: every association opened from now on carries them, and every text a
    writer sees from now on has their secret masked (log records too: :func:`_redacting_records`)."""
    global _current, _forms, _masked
    _current = identity
    forms = sorted({form for secret in _secrets() for form in text_forms(secret)}, key=len, reverse=True)
    _forms = re.compile("|".join(re.escape(f) for f in forms), re.IGNORECASE) if forms else None
    runs = "|".join(sorted({"\\*{" + str(len(secret)) + "}" for secret in _secrets()}))
    _masked = re.compile(r"(?<!\*)(?:" + runs + r")(?!\*)") if runs else None
    if _forms is not None:
        _redacting_records()


def _secrets() -> list[bytes]:
    who = _current
    names = _is_secret(who.sub_item()) if who is not None else ()
    return [s for name in names if len(s := getattr(who, name)) >= SHORTEST]


def text_forms(secret: bytes) -> set[str]:
    """The ways a secret shows in text: as itself, in hex (any case: the pattern ignores case), and in
    base64 (standard and URL-safe, padded or not, and the part of it that stays the same wherever the
    secret starts inside a longer base64 text)."""
    forms = {secret.decode("utf-8", "replace"), secret.hex()}
    for encode in (base64.b64encode, base64.urlsafe_b64encode):
        forms.add(encode(secret).decode())
        forms.add(encode(secret).decode().rstrip("="))
        for shift in (0, 1, 2):  # the secret 0-2 bytes into a 3-byte group: the characters it alone decides
            whole = (shift + len(secret)) // 3  # 3-byte groups, 4 characters each
            core = encode(bytes(shift) + secret).decode()[4 if shift else 0:4 * whole]
            if len(core) >= 2 * SHORTEST:
                forms.add(core)
    return {f for f in forms if len(f) >= SHORTEST}


def redact_text(text: str) -> str:
    """``text`` with the run's secret, in every form :func:`text_forms` lists, replaced by :data:`MASK_TEXT`,
    and a secret field already masked in bytes (``****``, as long as the secret) shortened to it too."""
    if _forms is None or not text:
        return text
    text = _forms.sub(MASK_TEXT, text)
    return _masked.sub(MASK_TEXT, text) if _masked is not None else text


def redact_value(value: object) -> object:
    """A JSON value (a result, a document) with :func:`redact_text` applied to every string in it, keys too."""
    if _forms is None:
        return value
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, dict):
        return {redact_text(k) if isinstance(k, str) else k: redact_value(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [redact_value(v) for v in value]
    return value


_factory_installed = False


def _redacting_records() -> None:
    """Every log record from now on (pynetdicom's debug log quotes the User Identity it sends and receives)
    is made with its message already redacted: one place for every handler, whatever logger it comes from."""
    global _factory_installed
    if _factory_installed:
        return
    _factory_installed = True
    made = logging.getLogRecordFactory()

    def factory(*args: object, **kwargs: object) -> logging.LogRecord:
        record = made(*args, **kwargs)
        if _forms is not None:
            try:
                message = record.getMessage()
            except Exception:  # noqa: BLE001 - a record whose arguments do not format is left to logging
                return record
            record.msg, record.args = redact_text(message), None
        return record

    logging.setLogRecordFactory(factory)


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
    """``data`` (a PDU we sent or received, or part of one) with every credential in it masked, same length.

    An A-ASSOCIATE-RQ has the secret fields of its 58H sub-items masked, whoever made them; and the run's
    own secret (``--passcode``) is masked wherever it occurs, even in a request a check broke on purpose
    or sent in pieces (only a secret of 4 bytes or more: a shorter one would mask unrelated bytes)."""
    if pd.type_of(data) == pd.PduType.A_ASSOCIATE_RQ and b"\x58" in data:
        data = _masked_sub_items(data)
    for secret in _secrets():
        for form in {secret, secret.hex().encode(), secret.hex().upper().encode(), base64.b64encode(secret)}:
            if form in data:
                data = data.replace(form, bytes([MASK]) * len(form))
    return data


_text.REDACTORS.append(redact_text)  # no text printed anywhere shows the run's secret (base.text.printable)
