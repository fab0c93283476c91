"""Field shapes shared by the HTTP models: the patterns that make the OpenAPI document say what the
services accept, so a client generated from it does not send what is refused for its shape.

The services still check everything (they are the one set of rules, and the CLI calls them too);
these patterns are the same rules written for JSON Schema, loose only where the services
normalise (spaces in numbers, ``+84`` phones).
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, StrictStr

QID_PATTERN = r"^[0-9]{18}$"

Qid = Annotated[
    StrictStr, Field(pattern=QID_PATTERN, description="18 digits", examples=["162979388586171100"])
]
DocumentNumber = Annotated[
    StrictStr,
    Field(
        min_length=6,
        max_length=32,
        pattern=r"^(?:[0-9] ?){8}[0-9]$|^(?:[0-9] ?){11}[0-9]$|^(?:[A-Za-z0-9] ?){5,8}[A-Za-z0-9]$",
        description="12-digit CCCD, 9-digit CMND, or a passport number (6-9 letters and digits)",
        examples=["001093029317"],
    ),
]
OldDocumentNumber = Annotated[
    StrictStr, Field(pattern=r"^[0-9]{9}$", description="9-digit CMND beside a CCCD")
]
BirthDate = Annotated[
    StrictStr,
    Field(pattern=r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$", description="YYYY-MM-DD", examples=["1987-01-18"]),
]
FullName = Annotated[StrictStr, Field(min_length=1, max_length=200, examples=["Nguyễn Lê Kha Hân"])]
Phone = Annotated[
    StrictStr,
    Field(
        max_length=20,
        pattern=r"^\+?[0-9][0-9 .()-]{8,18}$",
        description="10 digits starting with 0 (spaces, dots, dashes and +84 accepted)",
        examples=["0944713700"],
    ),
]
Insurance = Annotated[
    StrictStr,
    Field(
        max_length=20, pattern=r"^[A-Za-z]{2} ?[0-9 ]{13,17}$", description="BHYT: 2 letters and 13 digits"
    ),
]
Nationality = Annotated[
    StrictStr, Field(pattern=r"^[A-Za-z]{3}$", description="ISO 3166 alpha-3 (passports)")
]
#: In a correction, an empty string removes the value.
PhoneOrEmpty = Annotated[StrictStr, Field(max_length=20, pattern=r"^$|^\+?[0-9][0-9 .()-]{8,18}$")]
InsuranceOrEmpty = Annotated[StrictStr, Field(max_length=20, pattern=r"^$|^[A-Za-z]{2} ?[0-9 ]{13,17}$")]
