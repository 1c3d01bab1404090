"""What the zoo SCP is configured with and what it supports: its AE title, the calling AE titles it
accepts, the defects switched on, where it stores, its timers, its C-MOVE destinations, and the
SOP classes and transfer syntaxes it accepts."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from pydicom.uid import (
    DeflatedExplicitVRLittleEndian,
    ExplicitVRBigEndian,
    ExplicitVRLittleEndian,
    ImplicitVRLittleEndian,
    JPEG2000Lossless,
    JPEGBaseline8Bit,
    JPEGLosslessSV1,
    JPEGLSLossless,
    RLELossless,
)
from pynetdicom import sop_class as sc

from dcmconform.peers.certificates import PeerCertificates
from dcmconform.base.uids import OUR_ROOT, VERIFICATION

ZOO_IMPLEMENTATION_UID = f"{OUR_ROOT}.99"
ZOO_VERSION = "DCMCONFORM_ZOO"
# In order of preference: a context is accepted with the first of these that was proposed.
TRANSFER_SYNTAXES = [
    ExplicitVRLittleEndian,
    ImplicitVRLittleEndian,
    DeflatedExplicitVRLittleEndian,
    ExplicitVRBigEndian,
    RLELossless,
    JPEGBaseline8Bit,
    JPEGLosslessSV1,
    JPEGLSLossless,
    JPEG2000Lossless,
]
MAX_ASSOCIATE_RQ = 1024 * 1024  # like DCMTK's dcmAssociatePDUSizeLimit

# The archive's service classes (PS3.4 C, J, K).
PATIENT_ROOT_FIND = sc.PatientRootQueryRetrieveInformationModelFind
PATIENT_ROOT_MOVE = sc.PatientRootQueryRetrieveInformationModelMove
PATIENT_ROOT_GET = sc.PatientRootQueryRetrieveInformationModelGet
STUDY_ROOT_FIND = sc.StudyRootQueryRetrieveInformationModelFind
STUDY_ROOT_MOVE = sc.StudyRootQueryRetrieveInformationModelMove
STUDY_ROOT_GET = sc.StudyRootQueryRetrieveInformationModelGet
WORKLIST_FIND = sc.ModalityWorklistInformationFind
STORAGE_COMMITMENT = sc.StorageCommitmentPushModel
STORAGE_COMMITMENT_INSTANCE = sc.StorageCommitmentPushModelInstance
SERVICE_CLASSES = (PATIENT_ROOT_FIND, PATIENT_ROOT_MOVE, PATIENT_ROOT_GET, STUDY_ROOT_FIND, STUDY_ROOT_MOVE,
                   STUDY_ROOT_GET, WORKLIST_FIND, STORAGE_COMMITMENT)


def storage_sop_classes() -> list[str]:
    from pynetdicom import StoragePresentationContexts

    return [str(c.abstract_syntax) for c in StoragePresentationContexts]


@dataclass
class ZooConfig:
    ae_title: str = "ZOO"
    allowed_calling: frozenset[str] = frozenset({"DCMCONFORM"})
    defects: frozenset[str] = frozenset()
    storage: Path = Path("received")
    max_length: int = 16384
    artim: float = 2.0
    idle: float = 30.0
    move_destinations: dict[str, tuple[str, int]] = field(default_factory=dict)  # C-MOVE: AE title -> (host, port)
    tls: PeerCertificates | None = None  # serve TLS with these (peers/zoo/tls.py)
    identity: tuple[str, str] | None = None  # require this username (and passcode, if not "") (negotiation.py)
    abstract_syntaxes: frozenset[str] = field(default_factory=lambda: frozenset(
        [VERIFICATION, *storage_sop_classes(), *SERVICE_CLASSES]))

    def __post_init__(self) -> None:
        from dcmconform.peers.zoo.defects import validate

        self.defects = validate(self.defects)  # the switches: asking about a misspelt one raises
