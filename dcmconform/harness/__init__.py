"""The run in progress: the pytest plugin, the session around every check (the target's lifecycle, the health gate) and the guard on a reference peer."""
