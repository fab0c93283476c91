"""The pages' words for the services' codes (Vietnamese, English): colours, purposes, verifications.

One table per code list, so every page (the citizen's card, the console, the access log) names a
colour or a purpose the same way; a code missing here shows as itself.
"""

from __future__ import annotations

COLOURS = {
    "green": ("Mã xanh", "Green"),
    "yellow": ("Mã vàng", "Yellow"),
    "red": ("Mã đỏ", "Red"),
    "neutral": ("Chưa có thông tin sức khỏe", "No health status"),
}

#: Why someone read a person's data (``services.purposes.PURPOSES``, and the venue owner's day view).
PURPOSE_WORDS = {
    "checkpoint": ("Chốt kiểm soát", "Checkpoint"),
    "venue_entry": ("Vào địa điểm", "Venue entry"),
    "tracing": ("Truy vết", "Contact tracing"),
    "treatment": ("Điều trị", "Treatment"),
    "investigation": ("Điều tra dịch tễ", "Investigation"),
    "other": ("Khác", "Other"),
    "venue_history": ("Lịch sử ra vào của địa điểm", "A venue's visit history"),
}

#: How a code's signature verified (``codes.signing.Status``; ``none`` for a typed QID).
VERIFICATION_WORDS = {
    "valid": ("Chữ ký hợp lệ", "Valid signature"),
    "unsigned": ("Mã không có chữ ký", "Unsigned code"),
    "unknown_key": ("Khóa ký không rõ", "Unknown signing key"),
    "key_not_yet_valid": ("Khóa ký chưa hiệu lực", "Signing key not yet valid"),
    "key_expired": ("Khóa ký đã hết hạn", "Signing key expired"),
    "key_revoked": ("Khóa ký đã thu hồi", "Signing key revoked"),
    "code_revoked": ("Mã đã bị thu hồi", "Code revoked"),
    "bad_signature": ("Chữ ký sai", "Bad signature"),
    "malformed": ("Mã sai định dạng", "Malformed code"),
    "none": ("Nhập QID", "Typed QID"),
}


def words(table: dict[str, tuple[str, str]], code: str | None) -> tuple[str, str]:
    """``code``'s words in ``table``, or the code itself in both languages."""
    text = code or ""
    return table.get(text, (text, text))
