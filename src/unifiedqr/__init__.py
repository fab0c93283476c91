"""Unified Personal QR: the national personal QR code (v1.1) and the platform around it.

The public facade is small on purpose; everything else lives in sub-packages
(`unifiedqr.codes`, `unifiedqr.imaging`, ...). `tests/unit/test_exported.py` pins it.
"""

from unifiedqr.errors import InvalidInput, UnifiedQRError

__version__ = "0.1.0"

__all__ = ["InvalidInput", "UnifiedQRError", "__version__"]
