"""DICOM over TLS (PS3.15 B.13, the BCP 195 TLS Secure Transport Connection Profiles).

A security reviewer's first questions about a node's TLS port, answered with the handshakes as
evidence: which version it negotiates, whether it still takes TLS 1.0/1.1 or a suite BCP 195
forbids, whether its certificate is sound, whether it lets in a client without a certificate, and
whether a plaintext request on its TLS port (or a TLS handshake on its plaintext port) is refused
cleanly. The checks that need TLS are n.a. in a run without ``--tls``.
"""

from __future__ import annotations

import contextlib
import datetime
import ssl
from dataclasses import dataclass, replace

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import dsa, ec, rsa

from dcmconform.base.uids import IMPLICIT_LE, VERIFICATION
from dcmconform.evidence.transcript import Transcript
from dcmconform.evidence.verdict import Level, Requirement, Verdict, check
from dcmconform.net.probe import ACCEPTED, HANDSHAKE, SILENT, Connection, Observation, Probe
from dcmconform.net.target import Endpoint
from dcmconform.net.tls import TlsSettings, offer_problem
from dcmconform.suites.security.alive import Alive, still_serves

ECHO: list[tuple[int, str, list[str]]] = [(1, VERIFICATION, [IMPLICIT_LE])]
CLAUSE = "PS3.15 B.13; BCP 195 (RFC 9325)"
LEGACY = "DEFAULT:@SECLEVEL=0"  # OpenSSL 3 offers TLS 1.0/1.1 (SHA-1) only at security level 0
# Suite families BCP 195 (RFC 9325 4.1) rules out, as OpenSSL cipher strings; True: MUST NOT, False: SHOULD NOT.
WEAK_SUITES = [
    ("NULL encryption", "eNULL", True),
    ("anonymous (no server authentication)", "aNULL", True),
    ("RC4", "RC4", True),
    ("EXPORT", "EXPORT", True),
    ("3DES (112-bit)", "3DES", False),
    ("RSA key transport (no forward secrecy)", "kRSA", False),
]
# What SEC-003 (a MUST: no suite BCP 195 forbids) warns about: a suite it advises against.
ADVISED_AGAINST = Requirement(
    "BCP 195 (RFC 9325) 4.1", Level.SHOULD,
    "implementations should not negotiate suites with RSA key transport (no forward secrecy) or under 128 bits "
    "of security (3DES)")
# What SEC-007 (a MUST: refused cleanly, the node keeps serving) warns about: no answer until the client gives up.
ANSWER_AT_ONCE = Requirement(
    "PS3.8 9.3.1, 9.2 (Evt19: AA-1)", Level.PRACTICE,
    "a PDU of unknown type (a TLS ClientHello reads as PDU type 16H) is refused at once with an A-ABORT or a "
    "close; waiting for the megabytes its length field claims is legal, but leaves a TLS client hanging until "
    "its own timeout")
MIN_KEY_BITS = {"RSA": 2048, "DSA": 2048, "EC": 256}  # about 112 bits of security (NIST SP 800-57)
TLS12 = ssl.TLSVersion.TLSv1_2

@dataclass
class Handshake:
    """One TLS handshake with the node: what it negotiated, or why it failed."""

    version: str = ""
    cipher: str = ""
    certificate: bytes = b""
    failed: Observation | None = None

    def describe(self) -> str:
        return self.failed.describe() if self.failed else f"{self.version}, {self.cipher}"


def handshake(target: Endpoint, tls: TlsSettings, timeout: float, transcript: Transcript) -> Handshake:
    with Connection(replace(target, tls=tls), timeout, transcript) as conn:
        sock = conn.sock
        if not isinstance(sock, ssl.SSLSocket):
            return Handshake(failed=conn.connect_error)
        cipher = sock.cipher()
        return Handshake(sock.version() or "", cipher[0] if cipher else "", sock.getpeercert(binary_form=True) or b"")


def run_tls(verdict: Verdict, target: Endpoint) -> TlsSettings:
    if target.tls is None:
        verdict.not_applicable("the run does not speak TLS (give --tls and the node's TLS port)")
    return target.tls


@check("SEC-001", "TLS 1.2 or 1.3 is negotiated", CLAUSE, "MUST",
       fix="Enable TLS 1.2 and TLS 1.3 on the node's DICOM TLS port (BCP 195: TLS 1.2 MUST, TLS 1.3 SHOULD be "
           "supported); an older version is no longer acceptable.")
def test_tls_version(target: Endpoint, verdict: Verdict, transcript: Transcript, probe: Probe) -> None:
    tls = run_tls(verdict, target)
    shake = handshake(target, tls.offering(ssl.TLSVersion.TLSv1, ssl.TLSVersion.MAXIMUM_SUPPORTED, LEGACY),
                      probe.timeout, transcript)
    if shake.failed is not None:
        verdict.fail(f"no TLS connection could be made: {shake.describe()}")
    observed = probe.associate(probe.request(ECHO))
    verdict.judge(shake.version in ("TLSv1.2", "TLSv1.3"), f"negotiated {shake.describe()}; association "
                  f"{observed.describe()}", f"negotiated {shake.version} when offered TLS 1.0 to 1.3",
                  compared=("TLS version negotiated when offered TLS 1.0 to 1.3", "TLSv1.2 or TLSv1.3", str(shake.version)))


@check("SEC-002", "TLS 1.0 and TLS 1.1 are refused", f"{CLAUSE}; RFC 8996", "MUST",
       fix="Disable TLS 1.0 and TLS 1.1 on the node (RFC 8996 deprecates them; BCP 195: MUST NOT negotiate); "
           "leave TLS 1.2 and 1.3 on.")
def test_old_tls_refused(target: Endpoint, verdict: Verdict, transcript: Transcript, probe: Probe,
                         alive: Alive) -> None:
    tls = run_tls(verdict, target).unverified()
    accepted: list[str] = []
    refused: list[str] = []
    cannot: list[str] = []
    for name, version in (("TLS 1.0", ssl.TLSVersion.TLSv1), ("TLS 1.1", ssl.TLSVersion.TLSv1_1)):
        offer = tls.offering(version, version, LEGACY)
        if (why := offer_problem(offer)) is not None:
            cannot.append(f"{name}: {why}")
            continue
        shake = handshake(target, offer, probe.timeout, transcript)
        (refused if shake.failed else accepted).append(f"{name}: {shake.describe()}")
    if not accepted and not refused:
        verdict.not_applicable("this machine cannot offer TLS 1.0 or 1.1: " + "; ".join(cannot))
    still_serves(verdict, alive, "handshakes offering TLS 1.0/1.1")
    verdict.judge(not accepted, "refused " + "; ".join(refused + cannot),
                  "the node negotiated a deprecated version: " + "; ".join(accepted),
                  compared=[(f"handshake offering only {r.split(': ', 1)[0]}", "refused", r.split(": ", 1)[1])
                            for r in refused])


@check("SEC-003", "Suites BCP 195 rules out are refused (NULL, anonymous, RC4, EXPORT, 3DES, RSA key transport)",
       f"{CLAUSE} 4.1", "MUST",
       fix="Restrict the node's TLS cipher suites to the BCP 195 recommended ones (ECDHE or DHE with AES-GCM or "
           "ChaCha20-Poly1305); remove NULL, anonymous, RC4, EXPORT and 3DES suites and those with RSA key "
           "transport (no forward secrecy).")
def test_weak_suites_refused(target: Endpoint, verdict: Verdict, transcript: Transcript, probe: Probe,
                             alive: Alive) -> None:
    tls = run_tls(verdict, target).unverified()
    must: list[str] = []
    should: list[str] = []
    refused: list[str] = []
    cannot: list[str] = []
    for name, family, forbidden in WEAK_SUITES:
        offer = tls.offering(TLS12, TLS12, f"{family}:@SECLEVEL=0")
        if offer_problem(offer) is not None:
            cannot.append(name)
            continue
        shake = handshake(target, offer, probe.timeout, transcript)
        if shake.failed is not None:
            refused.append(name)
        else:
            (must if forbidden else should).append(f"{name} ({shake.cipher})")
    if not must and not should and not refused:
        verdict.not_applicable(f"this machine's OpenSSL can offer none of the weak suites ({', '.join(cannot)})")
    still_serves(verdict, alive, "handshakes offering weak suites")
    not_offered = f"; not offered (this machine's OpenSSL lacks them): {', '.join(cannot)}" if cannot else ""
    if must:
        verdict.fail("the node negotiated a suite BCP 195 forbids: " + ", ".join(must + should))
    if should:
        verdict.warn("the node negotiated a suite BCP 195 advises against: " + ", ".join(should),
                     broken=ADVISED_AGAINST)
        return  # a warn does not end the check (only fail and n.a. do)
    verdict.passed(f"refused {', '.join(refused)}{not_offered}",
                   compared=[(f"handshake offering only {name} suites", "refused", "refused") for name in refused])


def _key(certificate: x509.Certificate) -> tuple[str, int]:
    key = certificate.public_key()
    if isinstance(key, rsa.RSAPublicKey):
        return "RSA", key.key_size
    if isinstance(key, ec.EllipticCurvePublicKey):
        return "EC", key.curve.key_size
    if isinstance(key, dsa.DSAPublicKey):
        return "DSA", key.key_size
    return type(key).__name__, 0


@check("SEC-004", "The server certificate chains to the given CA, is within its validity and has a strong key",
       "PS3.15 B.13, B.1; BCP 195 (RFC 9325 4.2)", "MUST",
       fix="Give the node's DICOM TLS port a certificate issued by the CA its partners trust (--tls-ca), renew it "
           "before it expires, and use at least a 2048-bit RSA or a 256-bit EC key.")
def test_server_certificate(target: Endpoint, verdict: Verdict, transcript: Transcript, probe: Probe) -> None:
    tls = run_tls(verdict, target)
    shake = handshake(target, tls.unverified(), probe.timeout, transcript)
    if shake.failed is not None or not shake.certificate:
        verdict.fail(f"no certificate to look at: {shake.describe()}")
    cert = x509.load_der_x509_certificate(shake.certificate)
    now = datetime.datetime.now(datetime.UTC)
    kind, bits = _key(cert)
    facts = (f"subject {cert.subject.rfc4514_string()}, issuer {cert.issuer.rfc4514_string()}, valid "
             f"{cert.not_valid_before_utc:%Y-%m-%d} to {cert.not_valid_after_utc:%Y-%m-%d}, {kind} {bits} bits")
    verdict.attach(facts)
    problems = []
    if not cert.not_valid_before_utc <= now <= cert.not_valid_after_utc:
        problems.append(f"outside its validity (now {now:%Y-%m-%d})")
    if bits < MIN_KEY_BITS.get(kind, 0):
        problems.append(f"{kind} key of {bits} bits (at least {MIN_KEY_BITS[kind]})")
    named = _names_address(cert, target.host)
    if tls.ca is None:
        if problems:
            verdict.fail("the certificate " + "; ".join(problems))
        verdict.info(f"{facts}; {named}; its chain was not verified: no --tls-ca was given, so nothing says "
                     "which CA its partners trust (give --tls-ca to judge it)")
        return
    verified = handshake(target, tls, probe.timeout, transcript)
    if verified.failed is not None:
        problems.append(f"does not verify against {tls.ca.name}: {verified.failed.detail}")
    verdict.judge(not problems, f"{facts}; chains to {tls.ca.name} (the handshake verified it); {named}",
                  "the certificate " + "; ".join(problems) + f"; {named}",
                  compared=[("server certificate chain", f"verifies against {tls.ca.name} (--tls-ca)",
                             "verified by the handshake"),
                            ("validity", f"includes now ({now:%Y-%m-%d})",
                             f"{cert.not_valid_before_utc:%Y-%m-%d} to {cert.not_valid_after_utc:%Y-%m-%d}"),
                            ("public key", f"at least {MIN_KEY_BITS.get(kind, 0)} bits ({kind})", f"{kind} {bits} bits")])


def _names_address(cert: x509.Certificate, host: str) -> str:
    """Whether the certificate names the address it was reached at (its subjectAltName, else its common
    name), in words. Not a verdict: PS3.15 has no rule on host names and nodes are often addressed by IP."""
    import ipaddress

    names: list[str] = []
    with contextlib.suppress(x509.ExtensionNotFound):
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        names = [str(n) for n in san.get_values_for_type(x509.IPAddress)] + san.get_values_for_type(x509.DNSName)
    if not names:
        names = [str(a.value) for a in cert.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)]
    try:
        wanted = str(ipaddress.ip_address(host))
    except ValueError:
        wanted = host.lower()
    hit = any(n.lower() == wanted or (n.startswith("*.") and wanted.endswith(n[1:].lower())) for n in names)
    shown = ", ".join(names[:5]) or "none"
    return (f"it names {host}, the address it was reached at" if hit
            else f"it does not name {host}, the address it was reached at (its names: {shown}): a partner that "
                 "checks host names will refuse it")


@check("SEC-005", "A client without a certificate is refused when mutual authentication is in use",
       "PS3.15 B.13, B.1 (both peers authenticated by certificates)", "SHOULD",
       fix="Make the node require and verify the client's certificate on its TLS port (mutual authentication), "
           "so that only partners with a certificate from the trusted CA can associate.")
def test_client_without_certificate(target: Endpoint, verdict: Verdict, transcript: Transcript, probe: Probe,
                                    alive: Alive) -> None:
    tls = run_tls(verdict, target)
    if tls.cert is None:
        verdict.not_applicable("the run presents no client certificate (--tls-cert), so mutual authentication "
                               "is not in use")
    bare = Probe(replace(target, tls=tls.without_certificate()), probe.calling_aet, probe.timeout, transcript)
    observed = bare.associate(bare.request(ECHO))
    still_serves(verdict, alive, "a TLS connection without a client certificate")
    verdict.judge(observed.kind != ACCEPTED, f"refused a client without a certificate: {observed.describe()}",
                  "the node accepted an association from a client that showed no certificate",
                  compared=("answer to a TLS client without a certificate", "refused", observed.describe()))


@check("SEC-006", "A plaintext A-ASSOCIATE-RQ on the TLS port is refused cleanly", "PS3.15 B.13; PS3.8 9.1",
       "MUST",
       fix="The node's TLS port must speak only TLS: a plaintext request must end in a failed handshake (an alert "
           "and a close), never in an association, and must not hold the connection open or hurt the node.")
def test_plaintext_on_tls_port(target: Endpoint, verdict: Verdict, transcript: Transcript, probe: Probe,
                               alive: Alive) -> None:
    run_tls(verdict, target)
    plain = Probe(replace(target, tls=None), probe.calling_aet, probe.timeout, transcript)
    observed = plain.associate(plain.request(ECHO))
    still_serves(verdict, alive, "a plaintext A-ASSOCIATE-RQ on its TLS port")
    if observed.kind == ACCEPTED:
        verdict.fail("the node accepted a plaintext association on its TLS port")
    if observed.kind == SILENT:  # the check's own MUST: a TLS port never holds a plaintext request open
        verdict.fail(f"the node held the connection without an answer: {observed.describe()}")
    verdict.passed(f"refused: {observed.describe()}",
                   compared=("answer to a plaintext A-ASSOCIATE-RQ on the TLS port", "refused (no association)",
                             observed.describe()))


@check("SEC-007", "A TLS handshake on the plaintext port is refused cleanly", "PS3.8 9.1; PS3.15 B.13",
       "MUST",
       fix="A TLS ClientHello on the plaintext DICOM port is a malformed request: the node should close the "
           "connection (or answer A-ABORT) at once and keep serving.")
def test_tls_on_plaintext_port(target: Endpoint, verdict: Verdict, transcript: Transcript, probe: Probe,
                               alive: Alive) -> None:
    if target.tls is not None:
        verdict.not_applicable("the run's port speaks TLS; this check needs the node's plaintext port (a run "
                               "without --tls)")
    shake = handshake(target, TlsSettings(), probe.timeout, transcript)
    still_serves(verdict, alive, "a TLS ClientHello on its plaintext port")
    if shake.failed is None:
        verdict.info(f"the plaintext port also speaks TLS: {shake.describe()}")
    assert shake.failed is not None
    if shake.failed.kind == HANDSHAKE and "timed out" in shake.failed.detail:
        verdict.warn(f"the node held the connection without an answer: {shake.describe()}", broken=ANSWER_AT_ONCE)
        return  # a warn does not end the check
    verdict.passed(f"refused: {shake.describe()}",
                   compared=("answer to a TLS ClientHello on the plaintext port", "refused at once (a close or A-ABORT)",
                             shake.describe()))

