"""Byte-for-byte agreement with pynetdicom's PDU encoder and decoder (PS3.8 9.3).

For hypothesis-generated valid PDUs, three independent routes to pynetdicom's bytes:

1. from values, item by item: each of our items becomes the ``pynetdicom.pdu_items`` item with
   the same attribute values, each PDU the ``pynetdicom.pdu`` PDU; its ``encode()`` must equal
   ours, and our decoder must read pynetdicom's bytes back to the values we started from;
2. from values, through pynetdicom's service primitives (``A_ASSOCIATE``, ``P_DATA``,
   ``A_RELEASE``, ``A_ABORT``/``A_P_ABORT``), the way pynetdicom itself builds what it sends;
3. through pynetdicom's decoder: it decodes our bytes, its re-encoding equals them, and its
   decoded values are ours.

Where pynetdicom cannot express or does not keep a valid PDU the strategy is restricted, and
the difference is pinned down by a test of its own at the end of this module, so that it stays
visible (and a change in pynetdicom shows up here):

* pynetdicom's decoder strips leading spaces from AE titles (they are not significant, PS3.5
  6.2) and re-pads on the right, so route 3 uses AE titles that start with a non-space;
* its primitives cannot propose an SCP/SCU role selection with both roles 0 (the
  ``SCP_SCU_RoleSelectionNegotiation`` primitive refuses it), so route 2 skips such PDUs;
* it writes every reserved field as zero, decodes one trailing NUL off a UID, and has no class
  for unknown item types (its decoder raises ``KeyError``), so none of that is compared.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pynetdicom import pdu as pn
from pynetdicom import pdu_items as pi
from pynetdicom import pdu_primitives as pp
from pynetdicom.presentation import PresentationContext

from dcmconform.wire import decode_pdu
from dcmconform.fuzzing import strategies as ws
from dcmconform.wire.items import (
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
    PDV,
    AAbort,
    AAssociateAC,
    AAssociateRJ,
    AAssociateRQ,
    AReleaseRP,
    AReleaseRQ,
    PDataTF,
    ae,
    associate_rq,
)

AGREEMENT = settings(max_examples=250, deadline=None)

#: Valid PDUs whose AE titles start with a non-space character (pynetdicom's decoder normal form).
NORMAL_TITLES = ws.valid_pdus(ae_titles=ws.conformant_ae_titles(leading_spaces=False))


# --- our values -> pynetdicom objects, attribute by attribute -------------------------------------


def to_pn_item(item: Item) -> Any:
    """The pynetdicom item with the same values (PS3.8 9.3.2-9.3.3, PS3.7 D.3.3)."""
    match item:
        case ApplicationContextItem():
            out = pi.ApplicationContextItem()
            out.application_context_name = item.uid
        case AbstractSyntaxSubItem():
            out = pi.AbstractSyntaxSubItem()
            out.abstract_syntax_name = item.uid
        case TransferSyntaxSubItem():
            out = pi.TransferSyntaxSubItem()
            out.transfer_syntax_name = item.uid
        case PresentationContextRQItem():
            out = pi.PresentationContextItemRQ()
            out.presentation_context_id = item.context_id
            out.abstract_transfer_syntax_sub_items = [to_pn_item(i) for i in item.items]
        case PresentationContextACItem():
            out = pi.PresentationContextItemAC()
            out.presentation_context_id = item.context_id
            out.result_reason = item.result
            out.transfer_syntax_sub_item = [to_pn_item(i) for i in item.items]
        case UserInformationItem():
            out = pi.UserInformationItem()
            out.user_data = [to_pn_item(i) for i in item.items]
        case MaximumLengthSubItem():
            out = pi.MaximumLengthSubItem()
            out.maximum_length_received = item.maximum_length
        case ImplementationClassUIDSubItem():
            out = pi.ImplementationClassUIDSubItem()
            out.implementation_class_uid = item.uid
        case ImplementationVersionNameSubItem():
            out = pi.ImplementationVersionNameSubItem()
            out.implementation_version_name = item.uid
        case AsyncOperationsWindowSubItem():
            out = pi.AsynchronousOperationsWindowSubItem()
            out.maximum_number_operations_invoked = item.invoked
            out.maximum_number_operations_performed = item.performed
        case RoleSelectionSubItem():
            out = pi.SCP_SCU_RoleSelectionSubItem()
            out.sop_class_uid = item.sop_class_uid
            out.scu_role = item.scu_role
            out.scp_role = item.scp_role
        case SOPClassExtendedNegotiationSubItem():
            out = pi.SOPClassExtendedNegotiationSubItem()
            out.sop_class_uid = item.sop_class_uid
            out.service_class_application_information = item.app_info
        case SOPClassCommonExtendedNegotiationSubItem():
            out = pi.SOPClassCommonExtendedNegotiationSubItem()
            out.sub_item_version = item.header_reserved
            out.sop_class_uid = item.sop_class_uid
            out.service_class_uid = item.service_class_uid
            out.related_general_sop_class_identification = list(item.related_general_sop_classes)
        case UserIdentityRQSubItem():
            out = pi.UserIdentitySubItemRQ()
            out.user_identity_type = item.identity_type
            out.positive_response_requested = item.positive_response_requested
            out.primary_field = item.primary
            out.secondary_field = item.secondary
        case UserIdentityACSubItem():
            out = pi.UserIdentitySubItemAC()
            out.server_response = item.server_response
        case _:
            raise AssertionError(f"pynetdicom has no item for {item!r}")
    return out


def to_pn_pdu(pdu: PDU) -> Any:
    """The pynetdicom PDU with the same values (PS3.8 9.3.2-9.3.8)."""
    match pdu:
        case AAssociateRQ():
            out = pn.A_ASSOCIATE_RQ()
            out.protocol_version = pdu.protocol_version
            out.called_ae_title = pdu.called_ae.rstrip(" ")
            out.calling_ae_title = pdu.calling_ae.rstrip(" ")
            out.variable_items = [to_pn_item(i) for i in pdu.items]
        case AAssociateAC():
            out = pn.A_ASSOCIATE_AC()
            out.protocol_version = pdu.protocol_version
            out.reserved_aet = pdu.called_ae.rstrip(" ")
            out.reserved_aec = pdu.calling_ae.rstrip(" ")
            out.variable_items = [to_pn_item(i) for i in pdu.items]
        case AAssociateRJ():
            out = pn.A_ASSOCIATE_RJ()
            out.result, out.source, out.reason_diagnostic = pdu.result, pdu.source, pdu.reason
        case PDataTF():
            out = pn.P_DATA_TF()
            for pdv in pdu.pdvs:
                item = pi.PresentationDataValueItem()
                item.presentation_context_id = pdv.context_id
                # pynetdicom's PDV value starts with the message control header (PS3.8 E.2).
                item.presentation_data_value = bytes([pdv.control]) + pdv.data
                out.presentation_data_value_items.append(item)
        case AReleaseRQ():
            out = pn.A_RELEASE_RQ()
        case AReleaseRP():
            out = pn.A_RELEASE_RP()
        case AAbort():
            out = pn.A_ABORT_RQ()
            out.source, out.reason_diagnostic = pdu.source, pdu.reason
        case _:
            raise AssertionError(f"pynetdicom has no PDU for {pdu!r}")
    return out


# --- our values -> pynetdicom service primitives -> pynetdicom PDU ---------------------------------


def to_pn_notification(item: Item) -> Any:
    """The A-ASSOCIATE user information primitive for one sub-item (PS3.7 D.3.3)."""
    match item:
        case MaximumLengthSubItem():
            out = pp.MaximumLengthNotification()
            out.maximum_length_received = item.maximum_length
        case ImplementationClassUIDSubItem():
            out = pp.ImplementationClassUIDNotification()
            out.implementation_class_uid = item.uid
        case ImplementationVersionNameSubItem():
            out = pp.ImplementationVersionNameNotification()
            out.implementation_version_name = item.uid
        case AsyncOperationsWindowSubItem():
            out = pp.AsynchronousOperationsWindowNegotiation()
            out.maximum_number_operations_invoked = item.invoked
            out.maximum_number_operations_performed = item.performed
        case RoleSelectionSubItem():
            out = pp.SCP_SCU_RoleSelectionNegotiation()
            out.sop_class_uid = item.sop_class_uid
            out.scu_role, out.scp_role = bool(item.scu_role), bool(item.scp_role)
        case SOPClassExtendedNegotiationSubItem():
            out = pp.SOPClassExtendedNegotiation()
            out.sop_class_uid = item.sop_class_uid
            out.service_class_application_information = item.app_info
        case SOPClassCommonExtendedNegotiationSubItem():
            out = pp.SOPClassCommonExtendedNegotiation()
            out.sop_class_uid = item.sop_class_uid
            out.service_class_uid = item.service_class_uid
            out.related_general_sop_class_identification = list(item.related_general_sop_classes)
        case UserIdentityRQSubItem():
            out = pp.UserIdentityNegotiation()
            out.user_identity_type = item.identity_type
            out.positive_response_requested = bool(item.positive_response_requested)
            out.primary_field = item.primary
            out.secondary_field = item.secondary
        case UserIdentityACSubItem():
            out = pp.UserIdentityNegotiation()
            out.server_response = item.server_response
        case _:
            raise AssertionError(f"no primitive for {item!r}")
    return out


def _context(item: PresentationContextRQItem | PresentationContextACItem) -> PresentationContext:
    cx = PresentationContext()
    cx.context_id = item.context_id
    if isinstance(item, PresentationContextRQItem):
        cx.abstract_syntax = item.abstract_syntax
        for uid in item.transfer_syntaxes:
            cx.add_transfer_syntax(uid)
    else:
        cx.result = item.result
        cx.add_transfer_syntax(item.transfer_syntax)
    return cx


def to_pn_via_primitives(pdu: PDU) -> Any:
    """Build pynetdicom's PDU from its service primitive, as its DUL does before sending."""
    if isinstance(pdu, AAssociateRQ | AAssociateAC):
        app, *contexts, user = pdu.items
        assert isinstance(app, ApplicationContextItem)
        assert isinstance(user, UserInformationItem)
        prim = pp.A_ASSOCIATE()
        prim.application_context_name = app.uid
        prim.called_ae_title = pdu.called_ae.rstrip(" ")
        prim.calling_ae_title = pdu.calling_ae.rstrip(" ")
        prim.user_information = [to_pn_notification(i) for i in user.items]
        if isinstance(pdu, AAssociateRQ):
            prim.presentation_context_definition_list = [_context(c) for c in contexts]  # type: ignore[arg-type]
            return pn.A_ASSOCIATE_RQ(prim)
        prim.presentation_context_definition_results_list = [_context(c) for c in contexts]  # type: ignore[arg-type]
        return pn.A_ASSOCIATE_AC(prim)
    if isinstance(pdu, AAssociateRJ):
        prim = pp.A_ASSOCIATE()
        prim.result, prim.result_source, prim.diagnostic = pdu.result, pdu.source, pdu.reason
        return pn.A_ASSOCIATE_RJ(prim)
    if isinstance(pdu, PDataTF):
        data = pp.P_DATA()
        data.presentation_data_value_list = [[p.context_id, bytes([p.control]) + p.data] for p in pdu.pdvs]
        return pn.P_DATA_TF(data)
    if isinstance(pdu, AReleaseRQ | AReleaseRP):
        return (pn.A_RELEASE_RQ if isinstance(pdu, AReleaseRQ) else pn.A_RELEASE_RP)(pp.A_RELEASE())
    assert isinstance(pdu, AAbort)
    if pdu.source == 2:
        abort: Any = pp.A_P_ABORT()
        abort.provider_reason = pdu.reason
    else:
        abort = pp.A_ABORT()
        abort.abort_source = pdu.source
    return pn.A_ABORT_RQ(abort)


def _primitives_can_express(pdu: PDU) -> bool:
    """False for a role selection proposing neither role: pynetdicom's primitive refuses it."""
    if not isinstance(pdu, AAssociateRQ | AAssociateAC) or pdu.user_information is None:
        return True
    return all(r.scu_role or r.scp_role for r in pdu.role_selections)


# --- pynetdicom objects -> our values -----------------------------------------------------------

PN_CLASSES = {0x01: pn.A_ASSOCIATE_RQ, 0x02: pn.A_ASSOCIATE_AC, 0x03: pn.A_ASSOCIATE_RJ, 0x04: pn.P_DATA_TF,
              0x05: pn.A_RELEASE_RQ, 0x06: pn.A_RELEASE_RP, 0x07: pn.A_ABORT_RQ}


def pn_decode(data: bytes) -> Any:
    out = PN_CLASSES[data[0]]()
    out.decode(data)
    return out


def from_pn_item(item: Any) -> Item:
    """Our item with the values pynetdicom decoded."""
    match item:
        case pi.ApplicationContextItem():
            return ApplicationContextItem(str(item.application_context_name))
        case pi.AbstractSyntaxSubItem():
            return AbstractSyntaxSubItem(str(item.abstract_syntax_name))
        case pi.TransferSyntaxSubItem():
            return TransferSyntaxSubItem(str(item.transfer_syntax_name))
        case pi.PresentationContextItemRQ():
            sub = [from_pn_item(i) for i in item.abstract_transfer_syntax_sub_items]
            return PresentationContextRQItem(item.presentation_context_id, sub)
        case pi.PresentationContextItemAC():
            sub = [from_pn_item(i) for i in item.transfer_syntax_sub_item]
            return PresentationContextACItem(item.presentation_context_id, item.result_reason, sub)
        case pi.UserInformationItem():
            return UserInformationItem([from_pn_item(i) for i in item.user_data])
        case pi.MaximumLengthSubItem():
            return MaximumLengthSubItem(item.maximum_length_received)
        case pi.ImplementationClassUIDSubItem():
            return ImplementationClassUIDSubItem(str(item.implementation_class_uid))
        case pi.ImplementationVersionNameSubItem():
            return ImplementationVersionNameSubItem(item.implementation_version_name)
        case pi.AsynchronousOperationsWindowSubItem():
            return AsyncOperationsWindowSubItem(item.maximum_number_operations_invoked,
                                                item.maximum_number_operations_performed)
        case pi.SCP_SCU_RoleSelectionSubItem():
            return RoleSelectionSubItem(str(item.sop_class_uid), item.scu_role, item.scp_role)
        case pi.SOPClassExtendedNegotiationSubItem():
            return SOPClassExtendedNegotiationSubItem(str(item.sop_class_uid),
                                                      item.service_class_application_information)
        case pi.SOPClassCommonExtendedNegotiationSubItem():
            related = [str(u) for u in item.related_general_sop_class_identification]
            return SOPClassCommonExtendedNegotiationSubItem(str(item.sop_class_uid), str(item.service_class_uid),
                                                            related, header_reserved=item.sub_item_version)
        case pi.UserIdentitySubItemRQ():
            return UserIdentityRQSubItem(item.user_identity_type, item.positive_response_requested,
                                         item.primary_field, item.secondary_field)
        case pi.UserIdentitySubItemAC():
            return UserIdentityACSubItem(item.server_response)
    raise AssertionError(f"unexpected pynetdicom item {item!r}")


def from_pn_pdu(pdu: Any) -> PDU:
    """Our PDU with the values pynetdicom decoded."""
    match pdu:
        case pn.A_ASSOCIATE_RQ():
            items = [from_pn_item(i) for i in pdu.variable_items]
            return AAssociateRQ(ae(pdu.called_ae_title), ae(pdu.calling_ae_title), items,
                                protocol_version=pdu.protocol_version)
        case pn.A_ASSOCIATE_AC():
            items = [from_pn_item(i) for i in pdu.variable_items]
            return AAssociateAC(ae(pdu.reserved_aet), ae(pdu.reserved_aec), items,
                                protocol_version=pdu.protocol_version)
        case pn.A_ASSOCIATE_RJ():
            return AAssociateRJ(pdu.result, pdu.source, pdu.reason_diagnostic)
        case pn.P_DATA_TF():
            return PDataTF([PDV(context_id=i.presentation_context_id, control=i.presentation_data_value[0],
                                data=i.presentation_data_value[1:]) for i in pdu.presentation_data_value_items])
        case pn.A_RELEASE_RQ():
            return AReleaseRQ()
        case pn.A_RELEASE_RP():
            return AReleaseRP()
        case pn.A_ABORT_RQ():
            return AAbort(pdu.source, pdu.reason_diagnostic)
    raise AssertionError(f"unexpected pynetdicom PDU {pdu!r}")


# --- route 1: item attributes --------------------------------------------------------------------


@AGREEMENT
@given(ws.valid_pdus())
def test_pynetdicom_encodes_our_values_to_our_bytes(pdu: PDU) -> None:
    theirs = to_pn_pdu(pdu).encode()
    assert theirs == pdu.encode()
    assert decode_pdu(theirs) == pdu


# --- route 2: service primitives ------------------------------------------------------------------


@AGREEMENT
@given(ws.valid_pdus().filter(_primitives_can_express))
def test_pynetdicom_primitives_encode_to_our_bytes(pdu: PDU) -> None:
    theirs = to_pn_via_primitives(pdu).encode()
    assert theirs == pdu.encode()
    assert decode_pdu(theirs) == pdu


# --- route 3: pynetdicom's decoder ----------------------------------------------------------------


@AGREEMENT
@given(NORMAL_TITLES)
def test_pynetdicom_decodes_our_bytes_to_our_values_and_reencodes_them(pdu: PDU) -> None:
    data = pdu.encode()
    theirs = pn_decode(data)
    assert from_pn_pdu(theirs) == pdu
    assert theirs.encode() == data
    assert theirs.pdu_length == len(data) - 6


def test_real_pynetdicom_association_request() -> None:
    """What pynetdicom's AE actually sends, built by its own DUL primitives, decodes to the values
    it was given: PS3.8 9.3.2 with the user information of PS3.7 D.3.3."""
    from pynetdicom import build_context

    cx = build_context("1.2.840.10008.1.1", ["1.2.840.10008.1.2", "1.2.840.10008.1.2.1"])
    cx.context_id = 1
    prim = pp.A_ASSOCIATE()
    prim.application_context_name = "1.2.840.10008.3.1.1.1"
    prim.called_ae_title, prim.calling_ae_title = "ANY-SCP", "ECHOSCU"
    prim.presentation_context_definition_list = [cx]
    prim.maximum_length_received = 16382
    prim.implementation_class_uid = "1.2.826.0.1.3680043.9.3811.3.0.4"
    version = pp.ImplementationVersionNameNotification()
    version.implementation_version_name = "PYNETDICOM_304"
    prim.user_information.append(version)
    data = pn.A_ASSOCIATE_RQ(prim).encode()

    ours = decode_pdu(data)
    expected = associate_rq("ANY-SCP", "ECHOSCU", [(1, "1.2.840.10008.1.1", ["1.2.840.10008.1.2", "1.2.840.10008.1.2.1"])],
                            max_length=16382, implementation_uid="1.2.826.0.1.3680043.9.3811.3.0.4",
                            implementation_version="PYNETDICOM_304")
    assert ours == expected
    assert expected.encode() == data


# --- where pynetdicom differs, pinned down ------------------------------------------------------


def test_difference_pynetdicom_drops_leading_spaces_of_ae_titles() -> None:
    """PS3.5 6.2: leading spaces of an AE title are not significant. pynetdicom's decoder strips
    them and re-pads on the right, so it does not re-encode the bytes it was given; ours keeps
    the 16 bytes as sent (the strategies for route 3 use titles without leading spaces)."""
    rq = associate_rq("  SCP", "SCU", [(1, "1.2.840.10008.1.1", ["1.2.840.10008.1.2"])])
    data = rq.encode()
    theirs = pn_decode(data)
    assert theirs.called_ae_title == "SCP"
    assert theirs.encode()[10:26] == b"SCP".ljust(16)
    assert decode_pdu(data).called_ae == "  SCP".ljust(16)


def test_difference_pynetdicom_primitive_refuses_role_selection_with_no_role() -> None:
    """PS3.7 D.3.3.4 allows SCU-role 0 with SCP-role 0; pynetdicom's primitive raises, its item
    (route 1) encodes it as we do."""
    item = RoleSelectionSubItem("1.2.840.10008.5.1.4.1.1.2", 0, 0)
    with pytest.raises(ValueError, match="cannot both be unsupported"):
        to_pn_notification(item).from_primitive()
    assert to_pn_item(item).encode() == item.encode()


@pytest.mark.parametrize(
    ("pdu", "pn_bytes_differ_at"),
    [
        (AReleaseRQ(reserved=b"\x01\x02\x03\x04"), slice(6, 10)),
        (AAbort(2, 1, reserved=(9, 9)), slice(6, 8)),
        (AAssociateRJ(1, 1, 1, reserved=5, header_reserved=3), slice(1, 2)),
    ],
    ids=["A-RELEASE-RQ reserved", "A-ABORT reserved", "A-ASSOCIATE-RJ reserved and header"],
)
def test_difference_pynetdicom_writes_reserved_fields_as_zero(pdu: PDU, pn_bytes_differ_at: slice) -> None:
    """PS3.8 9.3: reserved fields are sent as zero but not tested on receipt. pynetdicom neither
    keeps nor sends other values; ours keeps them, so a conformance check can send them."""
    data = pdu.encode()
    theirs = pn_decode(data).encode()
    assert theirs != data
    assert set(theirs[pn_bytes_differ_at]) == {0}
    assert decode_pdu(data) == pdu


def test_difference_pynetdicom_strips_one_trailing_nul_from_uids() -> None:
    """PS3.8 Annex F: UIDs in items are not padded, but some peers pad with NUL. pynetdicom
    removes one trailing NUL when decoding; ours keeps the bytes as sent."""
    rq = associate_rq("SCP", "SCU", [(1, "1.2.840.10008.1.1\x00", ["1.2.840.10008.1.2"])])
    data = rq.encode()
    assert pn_decode(data).encode() != data
    assert decode_pdu(data) == rq


def test_difference_pynetdicom_cannot_decode_unknown_item_types() -> None:
    """PS3.8 9.3.1 / PS3.7 D.3.3: an unknown sub-item should be ignored. pynetdicom's PDU decoder
    has no class for it and raises KeyError; ours keeps it as UnknownItem."""
    rq = associate_rq("SCP", "SCU", [(1, "1.2.840.10008.1.1", ["1.2.840.10008.1.2"])],
                      extra_user_items=[UnknownItem(0x5F, b"\x01")])
    with pytest.raises(KeyError):
        pn_decode(rq.encode())
    assert decode_pdu(rq.encode()) == rq


@settings(max_examples=100, deadline=None)
@given(st.sampled_from([1, 3, 5, 255]), st.sampled_from([0, 1, 2, 3]), st.binary(max_size=32))
def test_pdv_header_split(context_id: int, control: int, data: bytes) -> None:
    """PS3.8 9.3.5.1 / E.2: pynetdicom keeps the control header as the first byte of the PDV
    value; we keep it apart. Same bytes either way."""
    pdu = PDataTF([PDV(context_id=context_id, control=control, data=data)])
    assert to_pn_pdu(pdu).encode() == pdu.encode()
    assert pn_decode(pdu.encode()).presentation_data_value_items[0].presentation_data_value == bytes([control]) + data
