# The dcmconform pytest plugin is loaded through its entry point (pyproject.toml); fixtures live
# in dcmconform/harness/plugin.py, not here.
