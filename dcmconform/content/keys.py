"""The keys of each Query/Retrieve level (PS3.4 C.6): the unique key, the levels above, the required keys
of each model and level (Tables C.6-1 to C.6-5), and what a response may hold beyond the keys asked
(C.4.1.1.3.2, C.4.1.3.1.1). The returned-keys checks judge by them; the zoo breaks them."""

from __future__ import annotations

PATIENT_ROOT_FIND = "1.2.840.10008.5.1.4.1.2.1.1"
STUDY_ROOT_FIND = "1.2.840.10008.5.1.4.1.2.2.1"

UNIQUE = {"PATIENT": "PatientID", "STUDY": "StudyInstanceUID", "SERIES": "SeriesInstanceUID", "IMAGE": "SOPInstanceUID"}
ABOVE = {"PATIENT": (), "STUDY": ("PATIENT",), "SERIES": ("PATIENT", "STUDY"), "IMAGE": ("PATIENT", "STUDY", "SERIES")}
# Required keys per model and level; Study Root's STUDY level adds the patient's (Table C.6-5).
REQUIRED = {
    (PATIENT_ROOT_FIND, "PATIENT"): ("PatientName",),
    (PATIENT_ROOT_FIND, "STUDY"): ("StudyDate", "StudyTime", "AccessionNumber", "StudyID"),
    (STUDY_ROOT_FIND, "STUDY"): ("StudyDate", "StudyTime", "AccessionNumber", "PatientName", "PatientID", "StudyID"),
    (PATIENT_ROOT_FIND, "SERIES"): ("Modality", "SeriesNumber"),
    (STUDY_ROOT_FIND, "SERIES"): ("Modality", "SeriesNumber"),
    (PATIENT_ROOT_FIND, "IMAGE"): ("InstanceNumber",),
    (STUDY_ROOT_FIND, "IMAGE"): ("InstanceNumber",),
}
# What a response may hold besides the keys asked for: the level, the character set and timezone, where to
# retrieve from, availability (and the unique keys above the level, :data:`ABOVE`).
ALLOWED_EXTRAS = {"QueryRetrieveLevel", "SpecificCharacterSet", "TimezoneOffsetFromUTC", "RetrieveAETitle",
                  "StorageMediaFileSetID", "StorageMediaFileSetUID", "InstanceAvailability"}
