"""The DIMSE codec of the engine (PS3.7, PS3.8 Annex E): bytes to messages and back, no connection.

- :mod:`.commands`: the command table (every Command Field code and its name), the command-set codec
  and the builders of common command sets;
- :mod:`.pdv`: cutting messages into PDVs and P-DATA-TFs, and joining PDV fragments into messages;
- :mod:`.datasets`: data sets encoded and decoded by transfer syntax;
- :mod:`.status`: what a status code means for a service.

The exchange of messages over an association is one floor up, in :mod:`dcmconform.exchange`.

Nothing here imports suites, peers or reports.
"""
