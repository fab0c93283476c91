"""Reference data for the population simulator: provinces, Vietnamese names, venue types and hours.

Provinces are the 63 of 2021 with their administrative codes (the first three digits of a CCCD)
and approximate populations in millions (2019 census, rounded), used as sampling weights. Name
frequencies are approximate shares of the common family names; middle and given names are plain
lists (sampled uniformly). None of this is a real person's data.
"""

from __future__ import annotations

from typing import Final

#: (CCCD province code, name, population in millions, approximately).
PROVINCES: Final[tuple[tuple[str, str, float], ...]] = (
    ("001", "Hà Nội", 8.05),
    ("002", "Hà Giang", 0.85),
    ("004", "Cao Bằng", 0.53),
    ("006", "Bắc Kạn", 0.31),
    ("008", "Tuyên Quang", 0.78),
    ("010", "Lào Cai", 0.73),
    ("011", "Điện Biên", 0.6),
    ("012", "Lai Châu", 0.46),
    ("014", "Sơn La", 1.25),
    ("015", "Yên Bái", 0.82),
    ("017", "Hòa Bình", 0.85),
    ("019", "Thái Nguyên", 1.29),
    ("020", "Lạng Sơn", 0.78),
    ("022", "Quảng Ninh", 1.32),
    ("024", "Bắc Giang", 1.8),
    ("025", "Phú Thọ", 1.46),
    ("026", "Vĩnh Phúc", 1.15),
    ("027", "Bắc Ninh", 1.37),
    ("030", "Hải Dương", 1.89),
    ("031", "Hải Phòng", 2.03),
    ("033", "Hưng Yên", 1.25),
    ("034", "Thái Bình", 1.86),
    ("035", "Hà Nam", 0.85),
    ("036", "Nam Định", 1.78),
    ("037", "Ninh Bình", 0.98),
    ("038", "Thanh Hóa", 3.64),
    ("040", "Nghệ An", 3.33),
    ("042", "Hà Tĩnh", 1.29),
    ("044", "Quảng Bình", 0.9),
    ("045", "Quảng Trị", 0.63),
    ("046", "Thừa Thiên Huế", 1.13),
    ("048", "Đà Nẵng", 1.13),
    ("049", "Quảng Nam", 1.5),
    ("051", "Quảng Ngãi", 1.23),
    ("052", "Bình Định", 1.49),
    ("054", "Phú Yên", 0.87),
    ("056", "Khánh Hòa", 1.23),
    ("058", "Ninh Thuận", 0.59),
    ("060", "Bình Thuận", 1.23),
    ("062", "Kon Tum", 0.54),
    ("064", "Gia Lai", 1.51),
    ("066", "Đắk Lắk", 1.87),
    ("067", "Đắk Nông", 0.62),
    ("068", "Lâm Đồng", 1.3),
    ("070", "Bình Phước", 0.99),
    ("072", "Tây Ninh", 1.17),
    ("074", "Bình Dương", 2.43),
    ("075", "Đồng Nai", 3.1),
    ("077", "Bà Rịa - Vũng Tàu", 1.15),
    ("079", "Hồ Chí Minh", 8.99),
    ("080", "Long An", 1.69),
    ("082", "Tiền Giang", 1.76),
    ("083", "Bến Tre", 1.29),
    ("084", "Trà Vinh", 1.01),
    ("086", "Vĩnh Long", 1.02),
    ("087", "Đồng Tháp", 1.6),
    ("089", "An Giang", 1.91),
    ("091", "Kiên Giang", 1.72),
    ("092", "Cần Thơ", 1.24),
    ("093", "Hậu Giang", 0.73),
    ("094", "Sóc Trăng", 1.2),
    ("095", "Bạc Liêu", 0.91),
    ("096", "Cà Mau", 1.19),
)

#: Family names with their approximate share of the population.
FAMILY_NAMES: Final[tuple[tuple[str, float], ...]] = (
    ("Nguyễn", 38.4),
    ("Trần", 12.1),
    ("Lê", 9.5),
    ("Phạm", 7.0),
    ("Hoàng", 4.1),
    ("Huỳnh", 3.0),
    ("Phan", 4.5),
    ("Vũ", 2.2),
    ("Võ", 1.7),
    ("Đặng", 2.1),
    ("Bùi", 2.0),
    ("Đỗ", 1.4),
    ("Hồ", 1.3),
    ("Ngô", 1.3),
    ("Dương", 1.0),
    ("Lý", 0.5),
    ("Đinh", 0.6),
    ("Trương", 0.6),
    ("Lâm", 0.4),
    ("Mai", 0.4),
)

MIDDLE_MALE: Final = ("Văn", "Đức", "Minh", "Quang", "Hữu", "Thanh", "Công", "Quốc", "Đình", "Gia", "Xuân")
MIDDLE_FEMALE: Final = ("Thị", "Ngọc", "Thu", "Thanh", "Hồng", "Minh", "Phương", "Bảo", "Mai", "Diệu", "Kim")
GIVEN_MALE: Final = (
    "An", "Bảo", "Bình", "Cường", "Dũng", "Duy", "Đạt", "Đức", "Hải", "Hiếu", "Hoàng", "Hùng", "Huy",
    "Khang", "Khánh", "Khôi", "Kiên", "Long", "Lộc", "Minh", "Nam", "Nghĩa", "Phong", "Phúc", "Quân",
    "Sơn", "Tài", "Thắng", "Thành", "Thịnh", "Toàn", "Trí", "Trung", "Tuấn", "Việt", "Vinh",
)  # fmt: skip
GIVEN_FEMALE: Final = (
    "Anh", "Ánh", "Bích", "Chi", "Dung", "Duyên", "Giang", "Hà", "Hạnh", "Hằng", "Hiền", "Hoa", "Hương",
    "Huyền", "Lan", "Liên", "Linh", "Loan", "Mai", "My", "Nga", "Ngân", "Ngọc", "Nhung", "Oanh",
    "Phương", "Quỳnh", "Thảo", "Thủy", "Trang", "Trâm", "Tuyết", "Uyên", "Vân", "Vy", "Yến",
)  # fmt: skip

#: Streets named after people and events, as in every Vietnamese town.
STREETS: Final = (
    "Lê Lợi", "Trần Hưng Đạo", "Nguyễn Huệ", "Hai Bà Trưng", "Lý Thường Kiệt", "Quang Trung",
    "Hùng Vương", "Lê Duẩn", "Nguyễn Trãi", "Phan Chu Trinh", "Điện Biên Phủ", "Trần Phú",
    "Nguyễn Văn Cừ", "Lê Thánh Tông", "Bà Triệu", "Ngô Quyền", "Phan Đình Phùng", "Võ Thị Sáu",
)  # fmt: skip
PLACES: Final = (
    "Đông", "Tây", "Nam", "Bắc", "Trung Tâm", "Hòa Bình", "Tân Phú", "An Lạc", "Phú Hòa", "Thạnh Mỹ",
    "Long Thành", "Tân An", "Bình An", "Hòa Khánh", "Phước Long", "Vĩnh Hưng", "Đồng Tâm", "Thái Hòa",
)  # fmt: skip

#: Venue types (the visit rules' list), their share of venues, local opening hours in minutes
#: after midnight (a closing time past 1440 is after midnight), the weight of a random errand
#: going there, and the weight of it being someone's workplace.
VENUE_KINDS: Final[dict[str, tuple[float, int, int, float, float]]] = {
    "shop": (0.34, 7 * 60, 22 * 60, 0.33, 0.10),
    "restaurant": (0.20, 6 * 60, 26 * 60, 0.27, 0.10),
    "office": (0.15, 7 * 60 + 30, 18 * 60, 0.03, 0.50),
    "school": (0.05, 6 * 60 + 30, 17 * 60 + 30, 0.02, 0.10),
    "market": (0.08, 5 * 60, 19 * 60, 0.18, 0.10),
    "hospital": (0.03, 0, 24 * 60, 0.04, 0.10),
    "transport": (0.04, 0, 24 * 60, 0.05, 0.0),
    "other": (0.11, 8 * 60, 21 * 60, 0.08, 0.0),
}

#: Name patterns per venue type ({g}: a given name, {p}: a place, {s}: a street, {v}: the province).
VENUE_NAMES: Final[dict[str, tuple[str, ...]]] = {
    "shop": ("Tạp hóa {g}", "Cửa hàng {g}", "Nhà thuốc {g}", "Siêu thị mini {p}", "Tiệm vàng {g}"),
    "restaurant": ("Quán phở {g}", "Cơm tấm {g}", "Cà phê {g}", "Bún chả {s}", "Nhà hàng {p}"),
    "office": ("Công ty TNHH {g}", "Văn phòng {p}", "UBND phường {p}", "Ngân hàng chi nhánh {p}"),
    "school": ("Trường THCS {s}", "Trường Tiểu học {p}", "Trường THPT {s}", "Trường Mầm non {g}"),
    "market": ("Chợ {p}", "Chợ đầu mối {p}", "Chợ {s}"),
    "hospital": ("Bệnh viện Đa khoa {v}", "Trạm Y tế {p}", "Phòng khám {g}", "Trung tâm Y tế {p}"),
    "transport": ("Bến xe {p}", "Ga {p}", "Bến phà {p}", "Trạm dừng nghỉ {p}"),
    "other": ("Nhà văn hóa {p}", "Sân vận động {p}", "Chùa {p}", "Bưu điện {p}", "Phòng gym {g}"),
}

#: Mobile prefixes of the Vietnamese carriers (10-digit numbers).
PHONE_PREFIXES: Final = (
    "032", "033", "034", "035", "036", "037", "038", "039", "056", "058", "059", "070", "076", "077",
    "078", "079", "081", "082", "083", "084", "085", "086", "088", "089", "090", "091", "093", "094",
    "096", "097", "098",
)  # fmt: skip

#: Household sizes and their shares (Vietnam averaged 3.5 people per household in 2019).
HOUSEHOLD_SIZES: Final = ((1, 0.11), (2, 0.20), (3, 0.23), (4, 0.26), (5, 0.13), (6, 0.07))
