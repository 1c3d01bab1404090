"""dcmconform: a DICOM network conformance and interoperability test suite."""

__version__ = "0.1.0"
