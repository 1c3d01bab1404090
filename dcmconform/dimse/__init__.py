"""The one DIMSE layer of the engine (PS3.7, PS3.8 Annex E).

- :mod:`.commands`: the command table (every Command Field code and its name), the command-set codec
  and the builders of common command sets;
- :mod:`.pdv`: cutting messages into PDVs and P-DATA-TFs, and joining PDV fragments into messages;
- :mod:`.datasets`: data sets encoded and decoded by transfer syntax;
- :mod:`.status`: what a status code means for a service;
- :mod:`.messages`: the messages of a transcript and what is wrong with a response;
- :mod:`.association`: one raw association exchanging DIMSE messages through the probe.

Nothing here imports suites, peers or reports.
"""
