"""Pin the package's small public facade (as httpx does), so growth is deliberate."""

import unifiedqr


def test_exported_members() -> None:
    assert sorted(unifiedqr.__all__) == ["InvalidInput", "UnifiedQRError", "__version__"]
    for name in unifiedqr.__all__:
        assert hasattr(unifiedqr, name)
