"""The pages' words for the services' codes (Vietnamese, English): colours, purposes, verifications.

One table per code list, so every page (the citizen's card, the console, the access log) names a
role, a colour or a purpose the same way; a code missing here shows as itself.
"""

from __future__ import annotations

from unifiedqr.codes.signing import Status
from unifiedqr.services import consents
from unifiedqr.services.auth import Role
from unifiedqr.services.purposes import PURPOSES
from unifiedqr.services.venue_history import VENUE_HISTORY

Words = tuple[str, str]  # (Vietnamese, English)

#: Who read, by role (the access log shows the host operator as an administrator; citizens never).
ROLES: dict[str, Words] = {
    Role.ADMINISTRATOR.value: ("Quản trị viên", "Administrator"),
    Role.PLATFORM.value: ("Ứng dụng", "App"),
    Role.VENUE_OWNER.value: ("Chủ địa điểm", "Venue owner"),
    Role.VENUE_STAFF.value: ("Nhân viên địa điểm", "Venue staff"),
    Role.HEALTH_OFFICIAL.value: ("Cán bộ y tế", "Health official"),
    Role.TRACER.value: ("Cán bộ truy vết", "Contact tracer"),
    Role.ASSESSOR.value: ("Cán bộ đánh giá", "Assessor"),
}
assert set(ROLES) == {r.value for r in Role} - {Role.CITIZEN.value, Role.OPERATOR.value}

#: Why: the closed list of look-up purposes, and the purposes services record on their own.
PURPOSE_WORDS: dict[str, Words] = {
    "checkpoint": ("Chốt kiểm soát", "Checkpoint"),
    "venue_entry": ("Vào địa điểm", "Entry to a venue"),
    "tracing": ("Truy vết", "Contact tracing"),
    "treatment": ("Khám, chữa bệnh", "Medical treatment"),
    "investigation": ("Điều tra dịch tễ", "Investigation"),
    "other": ("Lý do khác", "Other reason"),
    consents.PURPOSE: ("Xin sự đồng ý của bạn", "Asking your consent"),
    VENUE_HISTORY: ("Lịch sử ra vào của địa điểm", "The venue's visit history"),
}
assert set(PURPOSES) <= set(PURPOSE_WORDS)
NO_PURPOSE: Words = ("Không ghi lý do", "No reason given")

COLOURS = {
    "green": ("Mã xanh", "Green"),
    "yellow": ("Mã vàng", "Yellow"),
    "red": ("Mã đỏ", "Red"),
    "neutral": ("Chưa có thông tin sức khỏe", "No health status"),
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
assert {s.value for s in Status} <= set(VERIFICATION_WORDS)


def words(table: dict[str, Words], value: str | None, missing: Words = NO_PURPOSE) -> Words:
    """``value`` in words; a value the pages do not know yet shows as it is, never as nothing."""
    if value is None:
        return missing
    return table.get(value, (value, value))
