"""EU Digital COVID Certificates (HC1): an offline verifier, the holder's display and health facts.

Pure like the rest of :mod:`unifiedqr.codes`: the time and the trusted signer certificates are
parameters; nothing here reads a clock, a file outside the package or the network.

    result = verify(text, trust=[der, ...], at=now)
    result.status            # "valid" or the first failing stage
    result.stages            # {"unprefix": True, ..., "schema": True}
    minimal_display(result)  # name, birth date, type, dose n/m or date, issuer country
    trusted_facts(result, now)  # health facts, only for a valid certificate before its expiry
"""

from unifiedqr.codes.dcc.display import Display, ValueSetNames, minimal_display, value_set_names
from unifiedqr.codes.dcc.facts import (
    CertificateFacts,
    RecoveryFact,
    TestFact,
    VaccinationFact,
    health_facts,
    trusted_facts,
)
from unifiedqr.codes.dcc.signers import SignerCertificate, SignerTrust, key_id
from unifiedqr.codes.dcc.verify import STAGES, DccVerification, verify

__all__ = [
    "STAGES",
    "CertificateFacts",
    "DccVerification",
    "Display",
    "RecoveryFact",
    "SignerCertificate",
    "SignerTrust",
    "TestFact",
    "VaccinationFact",
    "ValueSetNames",
    "health_facts",
    "key_id",
    "minimal_display",
    "trusted_facts",
    "value_set_names",
    "verify",
]
