"""Tracing pictures: the case → venues → candidates graph, and a timeline per venue (issue 12).

Tracers would rather look than read. Both pictures are laid out once as a :class:`Scene` and written
as SVG (:func:`to_svg`) or PNG (:func:`to_png`), identical by construction and deterministic.

What may appear: only the display labels the caller gives (masked names such as
``N***** V** AN``), venue names, times, scores. As a second line of defence every label is
cleaned by :func:`safe_label`: a run of five or more digits (a phone, a document number, a QID,
even masked) becomes ``•••``. Size is bounded: at most ``max_venues`` venues and
``max_candidates`` people (graph) or ``max_tracks`` rows (timeline) are drawn, the rest summed up
in a "+N …" node or row, and long labels are cut with an ellipsis.

Inputs are duck-typed (:class:`CandidateLike`): the tracing service's candidates fit as they are,
and imaging does not import the services (imports run downwards).
"""

from __future__ import annotations

from unifiedqr.imaging.scene import Scene, to_png, to_svg
from unifiedqr.imaging.tracing_graph import contact_graph
from unifiedqr.imaging.tracing_style import CandidateLike, ExposureLike, Track, safe_label
from unifiedqr.imaging.tracing_timeline import timeline_tracks, venue_timeline

__all__ = [
    "CandidateLike",
    "ExposureLike",
    "Scene",
    "Track",
    "contact_graph",
    "safe_label",
    "timeline_tracks",
    "to_png",
    "to_svg",
    "venue_timeline",
]
