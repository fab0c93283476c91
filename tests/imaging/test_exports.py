"""Pin the facade the platform service calls: names and signatures change only on purpose."""

from __future__ import annotations

import inspect

import unifiedqr.imaging as imaging


def test_public_names() -> None:
    assert sorted(imaging.__all__) == [
        "Decoded",
        "ImageError",
        "data_uri",
        "decode_image",
        "render_card_pdf",
        "render_card_png",
        "render_png",
        "render_poster",
        "render_svg",
        "render_terminal",
    ]
    for name in imaging.__all__:
        assert hasattr(imaging, name)


def _params(func: object) -> list[tuple[str, str, object]]:
    signature = inspect.signature(func)  # type: ignore[arg-type]
    return [(p.name, p.kind.name, p.default) for p in signature.parameters.values()]


def test_signatures() -> None:
    kw, pos = "KEYWORD_ONLY", "POSITIONAL_OR_KEYWORD"
    empty = inspect.Parameter.empty
    assert _params(imaging.render_png)[:4] == [
        ("text", pos, empty),
        ("scale", kw, None),
        ("ec", kw, "M"),
        ("border", kw, 4),
    ]
    assert _params(imaging.render_svg)[:3] == [("text", pos, empty), ("ec", kw, "M"), ("border", kw, 4)]
    assert _params(imaging.render_terminal)[0] == ("text", pos, empty)
    assert _params(imaging.data_uri)[0] == ("text", pos, empty)
    assert _params(imaging.render_card_png)[:3] == [
        ("code", pos, empty),
        ("full", kw, False),
        ("status", kw, None),
    ]
    assert [p[0] for p in _params(imaging.render_poster)][:4] == ["url", "title", "subtitle_lines", "fmt"]
    assert _params(imaging.decode_image)[0] == ("data", pos, empty)


def test_decoded_has_text_and_kind() -> None:
    item = imaging.Decoded("x", "unknown")
    assert (item.text, item.kind) == ("x", "unknown")
