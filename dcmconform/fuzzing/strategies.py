"""Hypothesis strategies for the wire codec: PDUs and items, well formed or broken on purpose.

Built bottom-up from small named pieces: field values (:func:`uids`, :func:`ae_titles`,
:func:`context_ids`, ...), then one strategy per item and sub-item, then the items that hold
other items (:func:`presentation_context_rq`, :func:`user_information_rq`, ...), then one per
PDU and :func:`valid_pdus`, which draws any of the seven.

Two flavours of well-formed value:

* ``valid`` (the default): what PS3.8 and PS3.7 Annex D allow. Conformant UIDs and AE titles,
  odd presentation context IDs, zero reserved fields, items in the order of the standard.
* ``wide=True``: anything the strict decoder maps back exactly, which is more than the standard
  allows: non-zero reserved bytes, even context IDs, unknown item types, any latin-1 text in
  UID and AE title fields, items in any order. See :func:`roundtrip_pdus`.

Every strategy here yields values with ``length=None`` everywhere (the encoder writes the true
lengths), so ``decode_pdu(x.encode()) == x`` holds for all of them. :func:`mutated_pdu_bytes`
then breaks encoded PDUs (bit flips, truncation, extension, overwritten bytes and, above all,
wrong length fields) to feed the decoder's "raise only WireError" property.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable
from functools import cache

from hypothesis import strategies as st
from hypothesis.strategies import SearchStrategy
from pydicom.uid import (
    DeflatedExplicitVRLittleEndian,
    ExplicitVRBigEndian,
    ExplicitVRLittleEndian,
    ImplicitVRLittleEndian,
    JPEG2000Lossless,
    JPEGBaseline8Bit,
    JPEGLosslessSV1,
    RLELossless,
)
from pynetdicom.sop_class import (
    CTImageStorage,
    MRImageStorage,
    SecondaryCaptureImageStorage,
    StudyRootQueryRetrieveInformationModelFind,
    Verification,
)

from dcmconform.wire.items import (
    AC_ITEMS,
    APPLICATION_CONTEXT,
    PC_SUB_ITEMS,
    RQ_ITEMS,
    USER_SUB_ITEMS,
    AbstractSyntaxSubItem,
    ApplicationContextItem,
    AsyncOperationsWindowSubItem,
    ImplementationClassUIDSubItem,
    ImplementationVersionNameSubItem,
    Item,
    MaximumLengthSubItem,
    PresentationContextACItem,
    PresentationContextRQItem,
    RoleSelectionSubItem,
    SOPClassCommonExtendedNegotiationSubItem,
    SOPClassExtendedNegotiationSubItem,
    TransferSyntaxSubItem,
    UnknownItem,
    UserIdentityACSubItem,
    UserIdentityRQSubItem,
    UserInformationItem,
)
from dcmconform.wire.pdus import (
    PDU,
    PDU_HEADER,
    PDV,
    RJ_REASONS,
    AAbort,
    AAssociateAC,
    AAssociateRJ,
    AAssociateRQ,
    AReleaseRP,
    AReleaseRQ,
    PDataTF,
    PduType,
)

# ---------------------------------------------------------------------------------------------
# Field values
# ---------------------------------------------------------------------------------------------

u8: SearchStrategy[int] = st.integers(0, 0xFF)
u16: SearchStrategy[int] = st.integers(0, 0xFFFF)
u32: SearchStrategy[int] = st.integers(0, 0xFFFFFFFF)


NEAR = (0, 1, -1, 2, -2)  # offsets from a field's true value that a boundary draw tries first


def boundary_values(bits: int, actual: int | None = None) -> list[int]:
    """The values of a ``bits``-wide length or count field where decoders go wrong, most telling first.

    The true value (``actual``) and one or two either side of it, then 0, 1, small values, the
    maximum and one or two below it, every power of two, and one below the byte and sign boundaries
    (127, 255, 32767, 65535, 2**31 - 1: a signed or narrower reading of the field). A fuzzer draws
    from these before any value at random (:func:`boundaries`).
    """
    top = (1 << bits) - 1
    near = [] if actual is None else [actual + d for d in NEAR]
    out = [v for v in near if 0 <= v <= top]
    return out + [v for v in _edges(bits) if v not in out]


@cache
def _edges(bits: int) -> tuple[int, ...]:
    top = (1 << bits) - 1
    powers = [1 << k for k in range(2, bits)] + [(1 << k) - 1 for k in (7, 8, 15, 16, 31) if k < bits]
    out: list[int] = []
    for v in [0, 1, 2, 3, top, top - 1, top - 2, *powers]:
        if 0 <= v <= top and v not in out:
            out.append(v)
    return tuple(out)


@cache
def _boundary_draws(bits: int, relative: bool) -> SearchStrategy[tuple[bool, int]]:
    """``(True, offset from the true value)`` or ``(False, value)``; built once per width (a strategy
    made anew for every draw costs hypothesis milliseconds each)."""
    absolute = st.one_of(st.sampled_from(_edges(bits)), st.integers(0, (1 << bits) - 1)).map(lambda v: (False, v))
    return st.one_of(st.sampled_from(NEAR).map(lambda d: (True, d)), absolute) if relative else absolute


def boundaries(bits: int, actual: int | None = None) -> SearchStrategy[int]:
    """A ``bits``-wide length or count field: the true value ``actual`` or one or two off it, one of the
    edges of :func:`boundary_values`, or any value; shrinking towards the true value."""
    top = (1 << bits) - 1
    if actual is None:
        return _boundary_draws(bits, False).map(lambda p: p[1])
    return _boundary_draws(bits, True).map(lambda p: (actual + p[1]) & top if p[0] else p[1])


#: Transfer syntaxes of PS3.5 Section 10 and Annex A that a real peer proposes most.
KNOWN_TRANSFER_SYNTAXES = (
    ImplicitVRLittleEndian,
    ExplicitVRLittleEndian,
    DeflatedExplicitVRLittleEndian,
    ExplicitVRBigEndian,
    JPEGBaseline8Bit,
    JPEGLosslessSV1,
    JPEG2000Lossless,
    RLELossless,
)
#: A few storage and service SOP classes (PS3.4 Annex B, A.4), for realistic abstract syntaxes.
KNOWN_SOP_CLASSES = (
    Verification,
    CTImageStorage,
    MRImageStorage,
    SecondaryCaptureImageStorage,
    StudyRootQueryRetrieveInformationModelFind,
)

_LATIN1 = st.characters(min_codepoint=0, max_codepoint=0xFF)
# PS3.5 6.2, VR AE: the default character repertoire without control characters and backslash.
_AE_CHARS = st.characters(min_codepoint=0x20, max_codepoint=0x7E, exclude_characters="\\")


def uids(max_length: int = 64) -> SearchStrategy[str]:
    """A conformant UID, PS3.5 9.1 (and PS3.8 Annex F for names in items).

    Dot-separated numeric components without leading zeros (``str`` of an integer is exactly
    that), 1 to ``max_length`` (64) characters, never padded: in association items a UID is not
    padded to even length (PS3.8 Annex F). At most 8 components of at most 6 digits: 55
    characters, so no filtering at the default length.
    """
    uid = st.lists(st.integers(0, 999_999), min_size=1, max_size=8).map(lambda parts: ".".join(map(str, parts)))
    return uid if max_length >= 55 else uid.filter(lambda u: len(u) <= max_length)


def sop_class_uids() -> SearchStrategy[str]:
    """An abstract syntax / SOP class UID: a well-known one or any conformant UID (PS3.5 9.1)."""
    return st.one_of(st.sampled_from(KNOWN_SOP_CLASSES), uids())


def transfer_syntax_uids() -> SearchStrategy[str]:
    """A transfer syntax UID (PS3.5 Section 10): a standard one or any conformant UID."""
    return st.one_of(st.sampled_from(KNOWN_TRANSFER_SYNTAXES), uids())


def uid_texts(max_size: int = 64) -> SearchStrategy[str]:
    """Any latin-1 text where a UID goes: the codec keeps every byte of a name field."""
    return st.text(_LATIN1, max_size=max_size)


def ae_titles() -> SearchStrategy[str]:
    """A 16-character AE title field, PS3.8 9.3.2 (Table 9-11): latin-1 text padded with spaces.

    Any latin-1 characters, so it is what the 16 bytes of the field can hold rather than what
    PS3.5 allows (see :func:`conformant_ae_titles`).
    """
    return st.text(_LATIN1, max_size=16).map(lambda title: title.ljust(16))


def conformant_ae_titles(leading_spaces: bool = True) -> SearchStrategy[str]:
    """A conformant AE title padded to 16 characters, PS3.5 6.2 (VR AE) and PS3.8 9.3.2.

    Characters from the default repertoire except backslash and control characters, at least
    one of them not a space (16 spaces is not an AE title). Leading and trailing spaces are not
    significant; with ``leading_spaces=False`` the title starts with a non-space character, the
    normal form some implementations (pynetdicom) re-encode to.
    """
    first = _AE_CHARS.filter(lambda c: c != " ")
    rest = st.text(_AE_CHARS, max_size=15)
    core = st.tuples(first, rest).map(lambda p: (p[0] + p[1]).rstrip(" "))
    padded = core.map(lambda title: title.ljust(16))
    if not leading_spaces:
        return padded
    indented = st.tuples(st.integers(1, 15), core).map(lambda p: (" " * p[0] + p[1])[:16].ljust(16))
    return st.one_of(padded, indented)


def implementation_version_names() -> SearchStrategy[str]:
    """An implementation version name, PS3.7 D.3.3.2: 1 to 16 characters of the AE repertoire."""
    return st.text(_AE_CHARS, min_size=1, max_size=16)


def context_ids(wide: bool = False) -> SearchStrategy[int]:
    """A presentation context ID, PS3.8 9.3.2.2: odd, 1 to 255 (``wide``: any byte)."""
    return u8 if wide else st.integers(0, 127).map(lambda n: 2 * n + 1)


def message_control_headers(wide: bool = False) -> SearchStrategy[int]:
    """The PDV message control header, PS3.8 E.2: bits 0 (command) and 1 (last) only."""
    return u8 if wide else st.integers(0, 3)


def _reserved_byte(wide: bool) -> SearchStrategy[int]:
    """A reserved byte: 00H as PS3.8 requires, or (``wide``) any value a broken peer might send."""
    return u8 if wide else st.just(0)


def _short_bytes(max_size: int = 32) -> SearchStrategy[bytes]:
    return st.binary(max_size=max_size)


def _name(wide: bool, valid: SearchStrategy[str]) -> SearchStrategy[str]:
    return st.one_of(valid, uid_texts()) if wide else valid


# ---------------------------------------------------------------------------------------------
# Items without sub-items
# ---------------------------------------------------------------------------------------------


@cache
def application_context_items(wide: bool = False) -> SearchStrategy[Item]:
    """10H, PS3.8 9.3.2.1: the DICOM application context name, PS3.7 A.2.1 (or any UID)."""
    name = st.one_of(st.just(APPLICATION_CONTEXT), uids())
    return st.builds(ApplicationContextItem, _name(wide, name), header_reserved=_reserved_byte(wide))


@cache
def abstract_syntax_sub_items(wide: bool = False) -> SearchStrategy[Item]:
    """30H, PS3.8 9.3.2.2.1: one abstract syntax name."""
    return st.builds(AbstractSyntaxSubItem, _name(wide, sop_class_uids()), header_reserved=_reserved_byte(wide))


@cache
def transfer_syntax_sub_items(wide: bool = False) -> SearchStrategy[Item]:
    """40H, PS3.8 9.3.2.2.2 and 9.3.3.2.1: one transfer syntax name."""
    return st.builds(TransferSyntaxSubItem, _name(wide, transfer_syntax_uids()), header_reserved=_reserved_byte(wide))


def unknown_items(exclude: Iterable[int] = (), wide: bool = True) -> SearchStrategy[Item]:
    """An item of a type the receiver does not know (PS3.8 9.3.1: types not in the tables).

    ``exclude`` are the types known at that place; the decoder turns any other type into
    :class:`UnknownItem` with the body kept byte for byte.
    """
    return _unknown_items(frozenset(exclude), wide)


@cache
def _unknown_items(exclude: frozenset[int], wide: bool) -> SearchStrategy[Item]:
    code = st.sampled_from([c for c in range(256) if c not in exclude])
    return st.builds(UnknownItem, code, _short_bytes(), header_reserved=_reserved_byte(wide))


# ---------------------------------------------------------------------------------------------
# User information sub-items, PS3.8 Annex D.1 and PS3.7 Annex D.3.3
# ---------------------------------------------------------------------------------------------


@cache
def maximum_length_sub_items(wide: bool = False) -> SearchStrategy[Item]:
    """51H, PS3.8 D.1: maximum length received, 32 bits (0 = unlimited)."""
    return st.builds(MaximumLengthSubItem, boundaries(32), header_reserved=_reserved_byte(wide))


@cache
def implementation_class_uid_sub_items(wide: bool = False) -> SearchStrategy[Item]:
    """52H, PS3.7 D.3.3.2: the implementation class UID."""
    return st.builds(ImplementationClassUIDSubItem, _name(wide, uids()), header_reserved=_reserved_byte(wide))


@cache
def implementation_version_name_sub_items(wide: bool = False) -> SearchStrategy[Item]:
    """55H, PS3.7 D.3.3.2: the implementation version name, 1 to 16 characters."""
    name = st.one_of(implementation_version_names(), uid_texts(20)) if wide else implementation_version_names()
    return st.builds(ImplementationVersionNameSubItem, name, header_reserved=_reserved_byte(wide))


@cache
def async_operations_window_sub_items(wide: bool = False) -> SearchStrategy[Item]:
    """53H, PS3.7 D.3.3.3: maximum operations invoked and performed (0 = unlimited)."""
    return st.builds(AsyncOperationsWindowSubItem, u16, u16, header_reserved=_reserved_byte(wide))


@cache
def role_selection_sub_items(wide: bool = False) -> SearchStrategy[Item]:
    """54H, PS3.7 D.3.3.4: SOP class UID, SCU role and SCP role (0 or 1 each)."""
    role = u8 if wide else st.integers(0, 1)
    return st.builds(RoleSelectionSubItem, _name(wide, sop_class_uids()), role, role,
                     header_reserved=_reserved_byte(wide))


@cache
def sop_class_extended_negotiation_sub_items(wide: bool = False) -> SearchStrategy[Item]:
    """56H, PS3.7 D.3.3.5: SOP class UID and service-class-application-information."""
    return st.builds(SOPClassExtendedNegotiationSubItem, _name(wide, sop_class_uids()), _short_bytes(),
                     header_reserved=_reserved_byte(wide))


@cache
def sop_class_common_extended_negotiation_sub_items(wide: bool = False) -> SearchStrategy[Item]:
    """57H, PS3.7 D.3.3.6: SOP class, service class and related general SOP classes.

    The header reserved byte is the Sub-Item-version, 0 in the current standard.
    """
    related = st.lists(_name(wide, sop_class_uids()), max_size=3)
    return st.builds(SOPClassCommonExtendedNegotiationSubItem, _name(wide, sop_class_uids()), _name(wide, uids()),
                     related, header_reserved=_reserved_byte(wide))


@cache
def user_identity_rq_sub_items(wide: bool = False) -> SearchStrategy[Item]:
    """58H, PS3.7 D.3.3.7.1: identity type 1-5 (username, username and passcode, Kerberos, SAML,
    JWT) and positive-response-requested 0/1. The primary field is not empty; the secondary field
    (the passcode) is present for type 2 only.

    ``wide``: any type and flag byte, any primary and secondary field.
    """
    if wide:
        return st.builds(UserIdentityRQSubItem, u8, u8, _short_bytes(), _short_bytes(), header_reserved=u8)
    field = st.binary(min_size=1, max_size=32)
    plain = st.builds(UserIdentityRQSubItem, st.sampled_from([1, 3, 4, 5]), st.integers(0, 1), field)
    with_passcode = st.builds(UserIdentityRQSubItem, st.just(2), st.integers(0, 1), field, field)
    return st.one_of(plain, with_passcode)


@cache
def user_identity_ac_sub_items(wide: bool = False) -> SearchStrategy[Item]:
    """59H, PS3.7 D.3.3.7.2: the server response (empty unless type 3, 4 or 5 was accepted)."""
    return st.builds(UserIdentityACSubItem, _short_bytes(), header_reserved=_reserved_byte(wide))


# ---------------------------------------------------------------------------------------------
# Items with sub-items
# ---------------------------------------------------------------------------------------------


def _shuffle(draw: st.DrawFn, items: list[Item]) -> list[Item]:
    """Fisher-Yates with drawn indices: shrinks towards the order given."""
    items = list(items)
    for i in range(len(items) - 1, 0, -1):
        j = draw(st.integers(0, i))
        items[i], items[j] = items[j], items[i]
    return items


@cache
def presentation_context_rq(wide: bool = False) -> SearchStrategy[Item]:
    """20H, PS3.8 9.3.2.2: context ID, three reserved bytes, one abstract syntax sub-item and one
    or more (distinct) transfer syntax sub-items, in that order.

    ``wide``: any context ID and reserved bytes, any number of either sub-item and unknown
    sub-items, in any order.
    """
    reserved, ids = _reserved_byte(wide), context_ids(wide)
    abstract, transfers = sop_class_uids(), st.lists(transfer_syntax_uids(), min_size=1, max_size=4, unique=True)
    wide_parts = st.tuples(
        st.lists(abstract_syntax_sub_items(True), max_size=2),
        st.lists(transfer_syntax_sub_items(True), max_size=4),
        st.lists(unknown_items(PC_SUB_ITEMS), max_size=2),
    )

    @st.composite
    def build(draw: st.DrawFn) -> Item:
        head = (draw(reserved), draw(reserved), draw(reserved))
        if wide:
            sub = _shuffle(draw, [i for part in draw(wide_parts) for i in part])
        else:
            sub = [AbstractSyntaxSubItem(draw(abstract)), *map(TransferSyntaxSubItem, draw(transfers))]
        return PresentationContextRQItem(draw(ids), sub, reserved=head, header_reserved=draw(reserved))

    return build()


@cache
def presentation_context_ac(wide: bool = False) -> SearchStrategy[Item]:
    """21H, PS3.8 9.3.3.2: context ID, reserved, result/reason (Table 9-18, 0-4), reserved and
    exactly one transfer syntax sub-item (not significant unless the result is acceptance).

    ``wide``: any result byte, reserved bytes and context ID, zero or more transfer syntax
    sub-items and unknown sub-items in any order.
    """
    reserved, ids = _reserved_byte(wide), context_ids(wide)
    results, transfer = (u8 if wide else st.integers(0, 4)), transfer_syntax_uids()
    wide_parts = st.tuples(
        st.lists(transfer_syntax_sub_items(True), max_size=2), st.lists(unknown_items(PC_SUB_ITEMS), max_size=2)
    )

    @st.composite
    def build(draw: st.DrawFn) -> Item:
        head = (draw(reserved), draw(reserved))
        if wide:
            sub = _shuffle(draw, [i for part in draw(wide_parts) for i in part])
        else:
            sub = [TransferSyntaxSubItem(draw(transfer))]
        return PresentationContextACItem(draw(ids), draw(results), sub, reserved=head, header_reserved=draw(reserved))

    return build()


def _user_information(wide: bool, rq: bool) -> SearchStrategy[Item]:
    reserved = _reserved_byte(wide)
    if wide:
        kinds = st.one_of(
            maximum_length_sub_items(True), implementation_class_uid_sub_items(True),
            implementation_version_name_sub_items(True), async_operations_window_sub_items(True),
            role_selection_sub_items(True), sop_class_extended_negotiation_sub_items(True),
            sop_class_common_extended_negotiation_sub_items(True), user_identity_rq_sub_items(True),
            user_identity_ac_sub_items(True), unknown_items(USER_SUB_ITEMS),
        )
        sub_items = st.lists(kinds, max_size=8)
    else:
        # PS3.7 D.3.3: maximum length and implementation class UID are required; the rest are
        # optional. Written in type order, as most implementations (and associate_rq) do.
        identity = user_identity_rq_sub_items() if rq else user_identity_ac_sub_items()
        parts = [
            st.tuples(maximum_length_sub_items()),
            st.tuples(implementation_class_uid_sub_items()),
            st.lists(async_operations_window_sub_items(), max_size=1),
            st.lists(role_selection_sub_items(), max_size=3),
            st.lists(implementation_version_name_sub_items(), max_size=1),
            st.lists(sop_class_extended_negotiation_sub_items(), max_size=2),
            st.lists(sop_class_common_extended_negotiation_sub_items(), max_size=2 if rq else 0),
            st.lists(identity, max_size=1),
        ]
        sub_items = st.tuples(*parts).map(lambda groups: [i for group in groups for i in group])
    return st.builds(UserInformationItem, sub_items, header_reserved=reserved)


@cache
def user_information_rq(wide: bool = False) -> SearchStrategy[Item]:
    """50H in an A-ASSOCIATE-RQ, PS3.8 9.3.2.3 and PS3.7 D.3.3: maximum length (D.1) and
    implementation class UID, then optional asynchronous operations window, role selections,
    version name, extended and common extended negotiation and user identity (58H)."""
    return _user_information(wide, rq=True)


@cache
def user_information_ac(wide: bool = False) -> SearchStrategy[Item]:
    """50H in an A-ASSOCIATE-AC, PS3.8 9.3.3.3 and PS3.7 D.3.3: as in the request, but no common
    extended negotiation (PS3.7 D.3.3.6 defines no reply) and the user identity reply is 59H."""
    return _user_information(wide, rq=False)


# ---------------------------------------------------------------------------------------------
# PDUs, PS3.8 9.3
# ---------------------------------------------------------------------------------------------


def _associate(cls: type[AAssociateRQ] | type[AAssociateAC], wide: bool,
               titles: SearchStrategy[str] | None) -> SearchStrategy[PDU]:
    rq = cls is AAssociateRQ
    context = presentation_context_rq(wide) if rq else presentation_context_ac(wide)
    user = user_information_rq(wide) if rq else user_information_ac(wide)
    if wide:
        wide_titles = titles if titles is not None else st.one_of(ae_titles(), st.text(_LATIN1, min_size=16, max_size=16))
        pool = st.one_of(application_context_items(True), context, user, unknown_items(RQ_ITEMS if rq else AC_ITEMS))
        return st.builds(
            cls, wide_titles, wide_titles,
            st.lists(pool, max_size=6), protocol_version=u16, reserved_after_version=u16,
            reserved_block=st.binary(min_size=32, max_size=32), header_reserved=u8,
        )
    # PS3.8 9.3.2 / 9.3.3: protocol version 1, one application context item, one or more
    # presentation context items (IDs distinct within the association), one user information item.
    contexts = st.lists(context, min_size=1, max_size=4, unique_by=lambda c: c.context_id)  # type: ignore[attr-defined]
    items = st.tuples(application_context_items(), contexts, user).map(lambda p: [p[0], *p[1], p[2]])
    titles = titles if titles is not None else conformant_ae_titles()
    return st.builds(cls, titles, titles, items)


@cache
def associate_rq_pdus(wide: bool = False, ae_titles: SearchStrategy[str] | None = None) -> SearchStrategy[PDU]:
    """01H A-ASSOCIATE-RQ, PS3.8 9.3.2: protocol version 1, called and calling AE title, items."""
    return _associate(AAssociateRQ, wide, ae_titles)


@cache
def associate_ac_pdus(wide: bool = False, ae_titles: SearchStrategy[str] | None = None) -> SearchStrategy[PDU]:
    """02H A-ASSOCIATE-AC, PS3.8 9.3.3: as the request; the AE title fields echo it."""
    return _associate(AAssociateAC, wide, ae_titles)


@cache
def associate_rj_pdus(wide: bool = False) -> SearchStrategy[PDU]:
    """03H A-ASSOCIATE-RJ, PS3.8 9.3.4 (Table 9-21): result 1/2, source 1-3, a defined reason."""
    if wide:
        return st.builds(AAssociateRJ, u8, u8, u8, reserved=u8, header_reserved=u8)
    pairs = [(source, reason) for source, reasons in RJ_REASONS.items() for reason in reasons]
    return st.builds(lambda result, sr: AAssociateRJ(result, *sr), st.integers(1, 2), st.sampled_from(pairs))


@cache
def pdvs(wide: bool = False) -> SearchStrategy[PDV]:
    """One presentation data value item, PS3.8 9.3.5.1: context ID, control header, fragment."""
    return st.builds(PDV, context_id=context_ids(wide), control=message_control_headers(wide),
                     data=st.binary(max_size=64))


@cache
def p_data_tf_pdus(wide: bool = False) -> SearchStrategy[PDU]:
    """04H P-DATA-TF, PS3.8 9.3.5: one or more PDVs (``wide``: also none)."""
    return st.builds(PDataTF, st.lists(pdvs(wide), min_size=0 if wide else 1, max_size=4),
                     header_reserved=_reserved_byte(wide))


@cache
def release_rq_pdus(wide: bool = False) -> SearchStrategy[PDU]:
    """05H A-RELEASE-RQ, PS3.8 9.3.6: four reserved bytes."""
    return st.builds(AReleaseRQ, reserved=_release_reserved(wide), header_reserved=_reserved_byte(wide))


@cache
def release_rp_pdus(wide: bool = False) -> SearchStrategy[PDU]:
    """06H A-RELEASE-RP, PS3.8 9.3.7: four reserved bytes."""
    return st.builds(AReleaseRP, reserved=_release_reserved(wide), header_reserved=_reserved_byte(wide))


@cache
def abort_pdus(wide: bool = False) -> SearchStrategy[PDU]:
    """07H A-ABORT, PS3.8 9.3.8 (Table 9-26): source 0 (reason 0, not significant) or source 2
    with a defined reason (0, 1, 2, 4, 5, 6)."""
    if wide:
        return st.builds(AAbort, u8, u8, reserved=st.tuples(u8, u8), header_reserved=u8)
    return st.one_of(
        st.builds(AAbort, st.just(0), st.just(0)),
        st.builds(AAbort, st.just(2), st.sampled_from([0, 1, 2, 4, 5, 6])),
    )


def _release_reserved(wide: bool) -> SearchStrategy[bytes]:
    return st.binary(min_size=4, max_size=4) if wide else st.just(bytes(4))


@cache
def valid_pdus(ae_titles: SearchStrategy[str] | None = None) -> SearchStrategy[PDU]:
    """Any of the seven PDUs as PS3.8 9.3 defines them, with true lengths (``length=None``) and
    zero reserved fields, so that ``decode_pdu(pdu.encode()) == pdu``.

    ``ae_titles`` replaces the AE title strategy of the A-ASSOCIATE PDUs (default
    :func:`conformant_ae_titles`).
    """
    return st.one_of(
        associate_rq_pdus(ae_titles=ae_titles),
        associate_ac_pdus(ae_titles=ae_titles),
        associate_rj_pdus(),
        p_data_tf_pdus(),
        release_rq_pdus(),
        release_rp_pdus(),
        abort_pdus(),
    )


@cache
def roundtrip_pdus() -> SearchStrategy[PDU]:
    """Any of the seven PDUs with any values the strict decoder maps back exactly.

    Beyond :func:`valid_pdus`: non-zero reserved fields and header bytes, even and zero context
    IDs, unknown item types (kept as :class:`UnknownItem`), any latin-1 text in AE title and
    name fields, any protocol version, items in any order. Lengths are still true
    (``length=None``), so ``decode_pdu(pdu.encode()) == pdu``.
    """
    return st.one_of(
        associate_rq_pdus(wide=True),
        associate_ac_pdus(wide=True),
        associate_rj_pdus(wide=True),
        p_data_tf_pdus(wide=True),
        release_rq_pdus(wide=True),
        release_rp_pdus(wide=True),
        abort_pdus(wide=True),
    )


# ---------------------------------------------------------------------------------------------
# Broken bytes
# ---------------------------------------------------------------------------------------------


def length_field_offsets(data: bytes) -> list[tuple[int, int]]:
    """``(offset, size)`` of every length field in a well-formed encoded PDU.

    The PDU length (PS3.8 9.3.1), item and sub-item lengths (9.3.2-9.3.3), PDV item lengths
    (9.3.5.1) and the inner length fields of sub-items 54H, 56H, 57H, 58H and 59H (PS3.7 D.3.3).
    Walks only what it can read; on bytes that are not well formed it returns what it found.
    """
    found: list[tuple[int, int]] = [(2, 4)]
    if len(data) < PDU_HEADER:
        return found
    code = data[0]

    def u16_at(pos: int) -> int:
        return struct.unpack(">H", data[pos : pos + 2])[0] if pos + 2 <= len(data) else 0

    def walk_items(pos: int, end: int, nested: dict[int, int]) -> None:
        while pos + 4 <= end:
            item_type, length = data[pos], u16_at(pos + 2)
            found.append((pos + 2, 2))
            body, body_end = pos + 4, min(end, pos + 4 + length)
            if item_type in nested:
                walk_items(body + nested[item_type], body_end, {})
            elif item_type in (0x54, 0x56, 0x57, 0x59):
                found.append((body, 2))
                if item_type == 0x57:
                    second = body + 2 + u16_at(body)
                    found.append((second, 2))
                    found.append((second + 2 + u16_at(second), 2))
            elif item_type == 0x58:
                found.append((body + 2, 2))
                found.append((body + 4 + u16_at(body + 2), 2))
            pos = body + length

    if code in (PduType.A_ASSOCIATE_RQ, PduType.A_ASSOCIATE_AC):
        walk_items(PDU_HEADER + 68, len(data), {0x20: 4, 0x21: 4, 0x50: 0})
    elif code == PduType.P_DATA_TF:
        pos = PDU_HEADER
        while pos + 4 <= len(data):
            found.append((pos, 4))
            pos += 4 + struct.unpack(">I", data[pos : pos + 4])[0]
    return [(offset, size) for offset, size in found if offset + size <= len(data)]


_MUTATIONS = ("length", "length", "length", "flip", "truncate", "extend", "overwrite")


def _mutate(draw: st.DrawFn, data: bytes) -> bytes:
    buf = bytearray(data)
    kind = draw(st.sampled_from(_MUTATIONS))
    fields = length_field_offsets(data) if kind == "length" else []
    if fields:
        offset, size = fields[draw(st.integers(0, len(fields) - 1))]
        current = int.from_bytes(buf[offset : offset + size], "big")
        value = draw(boundaries(8 * size, current).filter(lambda v: v != current))
        buf[offset : offset + size] = value.to_bytes(size, "big")
        return bytes(buf)
    if not buf:
        return draw(st.binary(max_size=16))
    if kind in ("flip", "length"):
        pos = draw(st.integers(0, len(buf) - 1))
        buf[pos] ^= 1 << draw(st.integers(0, 7))
    elif kind == "truncate":
        del buf[draw(st.integers(0, len(buf) - 1)) :]
    elif kind == "extend":
        buf += draw(st.binary(min_size=1, max_size=16))
    else:
        pos = draw(st.integers(0, len(buf) - 1))
        chunk = draw(st.binary(min_size=1, max_size=8))
        buf[pos : pos + len(chunk)] = chunk
    return bytes(buf)


def mutated_pdu_bytes(pdus: SearchStrategy[PDU] | None = None) -> SearchStrategy[bytes]:
    """An encoded well-formed PDU broken by one to four mutations.

    Each mutation is one of: set a length field (PDU, item, sub-item, PDV or inner length; see
    :func:`length_field_offsets`) to a boundary value (:func:`boundary_values`: off by one or two,
    0, 1, small, its maximum, a power of two and its neighbours) or any value; flip a
    bit; truncate; append bytes; overwrite a run of bytes. Length fields are picked three times
    in seven, since that is where decoders go wrong. ``pdus`` defaults to :func:`valid_pdus`
    and :func:`roundtrip_pdus`.
    """
    source = pdus if pdus is not None else st.one_of(valid_pdus(), roundtrip_pdus())

    @st.composite
    def build(draw: st.DrawFn) -> bytes:
        data = draw(source).encode()
        for _ in range(draw(st.integers(1, 4))):
            data = _mutate(draw, data)
        return data

    return build()


@cache
def framed_bytes() -> SearchStrategy[bytes]:
    """A PDU header with a consistent length around an arbitrary body, so that random bytes get
    past the header check into the body decoders (PS3.8 9.3.1). Half the bodies are a 68-byte
    A-ASSOCIATE fixed part followed by item-shaped soup (see :func:`_item_soup`)."""
    body = st.one_of(st.binary(max_size=200),
                     st.binary(min_size=68, max_size=300).map(lambda b: b[:68] + _item_soup(b[68:])))
    code = st.one_of(st.integers(1, 7), u8)
    return st.builds(lambda c, r, b: struct.pack(">BBI", c, r, len(b)) + b, code, u8, body)


_SOUP_CODES = (0x10, 0x20, 0x21, 0x30, 0x40, 0x50, 0x51, 0x52, 0x53, 0x54, 0x55, 0x56, 0x57, 0x58, 0x59, 0x5F)


def _item_soup(raw: bytes, depth: int = 0) -> bytes:
    """Cut ``raw`` into item-shaped chunks whose length fields match, so item walkers go deep:
    the bodies of presentation context and user information items are item soup again."""
    out, pos = bytearray(), 0
    while pos < len(raw):
        chunk = raw[pos : pos + 4 + raw[pos] % 40]
        code = _SOUP_CODES[raw[pos] % len(_SOUP_CODES)]
        body = chunk[4:]
        if depth == 0 and code in (0x20, 0x21):
            body = body[:4] + _item_soup(body[4:], 1)
        elif depth == 0 and code == 0x50:
            body = _item_soup(body, 1)
        out += struct.pack(">BBH", code, 0, len(body)) + body
        pos += len(chunk)
    return bytes(out)
