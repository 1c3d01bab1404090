"""The checks, as pytest modules, one folder per area (installed as ``dcmconform.suites``)."""
