"""The SCU side: the scenarios the suite plays as SCP, and the trigger that drives the SCU under test."""
