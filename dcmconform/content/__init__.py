"""The content layer (DESIGN.md, turn 3): what a node says, judged against an oracle, not a peer.

Beside the DIMSE layer and used by the query, read-back and SCU workflow checks and by the zoo:
the corpus the suite stores (drawn to hit the matching rules' edges), the matching oracle (PS3.4
C.2.2.2, whose rules the zoo's query engine breaks one at a time), the attribute diff of what came
back against what was sent, the IOD validator adapter (dciodvfy) and pixel comparison by transfer
syntax. It imports only from the floors below it (dimse, fixtures, wire, base).
"""
