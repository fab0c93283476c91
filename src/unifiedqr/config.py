"""Settings of the platform service: environment variables ``UNIFIEDQR_*``, one default for everything.

Why a data directory: the embedded default (a SQLite file) must work with no set-up, yet a copied
database file must not leak documents or phones. So the secrets (issuing keys and the at-rest key)
live in a directory *beside* the database, written 0600 on first use, never inside the database.
In production (``UNIFIEDQR_ENV=production``) nothing is generated: missing or placeholder keys are a
:class:`~unifiedqr.errors.ConfigError`, so a mis-deployed server refuses to start instead of quietly
issuing codes with a throw-away key.

=================================  ==============================================================
``UNIFIEDQR_ENV``                  ``development`` (default) or ``production``
``UNIFIEDQR_DATABASE_URL``         SQLAlchemy URL; default ``sqlite:///<data dir>/unifiedqr.sqlite``
``UNIFIEDQR_DATA_DIR``             where generated secrets go (default: ``<db file stem>.secrets``
                                   beside a SQLite file, else ``~/.local/share/unifiedqr``)
``UNIFIEDQR_ISSUING_KEY``          a signing key file, or a directory of them (rotation: add one)
``UNIFIEDQR_AT_REST_KEY_FILE``     the at-rest key file; or ``UNIFIEDQR_AT_REST_KEY`` (base64url)
``UNIFIEDQR_ISSUER``               issuer name written into new issuing keys
``UNIFIEDQR_KEY_VALID_DAYS``       lifetime of generated issuing keys (default 730, two years)
``UNIFIEDQR_TOKEN_TTL``            bearer token lifetime in seconds (default 3600)
``UNIFIEDQR_SQLITE_SYNCHRONOUS``   ``NORMAL`` (default: WAL survives a killed process) or ``FULL``
``UNIFIEDQR_SQLITE_WAL_LIMIT_MB``  WAL size that triggers a truncating checkpoint (default 64)
``UNIFIEDQR_REPLICA_URL``          a PostgreSQL streaming replica for tracing and history reads
``UNIFIEDQR_REPLICA_MAX_LAG_SECONDS``  how far behind the replica may be and still be read (default 5)
``UNIFIEDQR_MAX_BODY_BYTES``       request body cap (default 65536)
``UNIFIEDQR_PASSWORD_*``           argon2id cost: ``TIME_COST`` 3, ``MEMORY_KIB`` 65536, ``PARALLELISM`` 4;
                                   ``CONCURRENCY`` 2 hashes at once, ``QUEUE_SECONDS`` 5 of waiting
``UNIFIEDQR_TRUSTED_PROXIES``      proxies whose ``X-Forwarded-For`` to believe (IPs or CIDRs, commas)
``UNIFIEDQR_REDIS_URL``            shared rate limits across workers and hosts (default: in-process)
``UNIFIEDQR_LIMIT_*``              rate limits as ``count/seconds`` (:class:`LimitSettings`)
``UNIFIEDQR_VENUE_BASE_URL``       the host printed in venue codes (default a placeholder to configure)
``UNIFIEDQR_BATCH_CAP``            most scans in one offline upload (default 5000)
``UNIFIEDQR_VISIT_*``              the visit rules' numbers (docs/venues.md)
``UNIFIEDQR_SESSION_TTL``          web page sessions: idle lifetime in seconds (default 28800, 8 h)
``UNIFIEDQR_SESSION_MAX_AGE``      web page sessions: lifetime from sign-in (default 604800, 7 days)
``UNIFIEDQR_TESSERACT``           the OCR engine ``conformance check`` runs (default: on PATH)
``UNIFIEDQR_INGEST``               ``nats://HOST:PORT``: stream mode (``_STREAM`` UQR_SCANS, ``_SHARDS``
                                   16, ``_MAX_AGE_HOURS`` 168, ``_MAX_MB`` 4096, ``_PUBLISH_TIMEOUT_MS``
                                   2000, ``_BATCH`` 500, ``_CONSUMERS`` 1 per serving process)
``UNIFIEDQR_RETENTION_DAYS``       scans, check-ins, batches, declarations (default 30; also the
                                   ``too_old`` refusal; ``UNIFIEDQR_VISIT_MAX_AGE_DAYS`` is an alias)
``UNIFIEDQR_HEALTH_RECORD_RETENTION_DAYS``, ``UNIFIEDQR_AUDIT_RETENTION_DAYS``   365 and 730
``UNIFIEDQR_PURGE_*``              ``INTERVAL_SECONDS`` 3600 (``serve``; 0: never), ``BATCH_ROWS`` 100
``UNIFIEDQR_HEALTH_RULES``         the colour rule file: a shipped name or a path (docs/health-status.md)
``UNIFIEDQR_DCC_TRUST``            EU DCC signer certificates (a folder of PEM/DER files)
``UNIFIEDQR_TRACING_RULES``        a JSON file of extra tracing rules (docs/tracing.md); ``_TRACING_*``
                                   bounds: ``MAX_WINDOW_DAYS`` (0: none), ``MAX_RING_DEPTH`` 3,
                                   ``MAX_RING_PEOPLE`` 1000
``UNIFIEDQR_URL``, ``_TOKEN``,     what the user-side commands talk to (:class:`ClientSettings`)
``_TOKEN_FILE``
=================================  ==============================================================

This is the only module that reads the environment: everything else receives a :class:`Settings`
(or :class:`ClientSettings`) built once at start-up and passed down.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import json
import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

from sqlalchemy.engine import make_url

from unifiedqr.errors import ConfigError, InvalidInput
from unifiedqr.services.health_rule_file import DEFAULT_RULES, RuleSet, load_rules
from unifiedqr.services.visits import DEFAULT_STAYS, VisitRules
from unifiedqr.store.stream import StreamSettings

ENV_PREFIX = "UNIFIEDQR_"
AT_REST_KEY_KIND = "unifiedqr-at-rest-key"
AT_REST_KEY_BYTES = 32
DEFAULT_ISSUER = "Unified Personal QR national platform"
DEFAULT_VENUE_BASE_URL = "https://checkin.unifiedqr.vn"


def _default_data_home(environ: Mapping[str, str]) -> Path:
    base = environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "unifiedqr"


def sqlite_path(database_url: str) -> Path | None:
    """The file of a SQLite URL, or None for another database or an in-memory SQLite."""
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        return None
    return Path(url.database).expanduser().resolve()


@dataclass(frozen=True)
class VenueSettings:
    """``UNIFIEDQR_VENUE_BASE_URL`` (the host printed on posters), the batch cap, the cache time.

    The base is ``https://<host>[:port]``; ``http://`` is accepted in development only (the demo
    prints codes that open its own ``http://127.0.0.1:PORT``), never in production.
    """

    base_url: str = DEFAULT_VENUE_BASE_URL
    batch_cap: int = 5000
    cache_seconds: float = 5.0


@dataclass(frozen=True)
class WebSettings:
    """Sessions of the web pages (``web/sessions.py``): sliding idle lifetime, absolute lifetime."""

    session_ttl_seconds: int = 8 * 3600
    session_max_age_seconds: int = 7 * 24 * 3600


@dataclass(frozen=True)
class RetentionSettings:
    """How long data is kept (spec §9) and how the purge runs; docs/privacy.md lists every table."""

    days: int = 30
    health_record_days: int = 365
    audit_days: int = 730
    purge_interval_seconds: int = 3600
    batch_rows: int = 100  # SQLite: ~2 ms a batch; 250 took 14 ms, 500 took 50 (bench/lookups.py)


def _default_rules() -> RuleSet:
    return load_rules(DEFAULT_RULES)


@dataclass(frozen=True)
class TracingSettings:
    """Contact tracing: extra rules (``UNIFIEDQR_TRACING_RULES``, a JSON file) and the query bounds."""

    rules_file: Path | None = None
    max_window_days: int = 0  # 0: no bound (retention bounds what a window can hold)
    max_ring_depth: int = 3
    max_ring_people: int = 1000


@dataclass(frozen=True)
class PasswordHashing:
    """argon2id cost (``UNIFIEDQR_PASSWORD_MEMORY_KIB``...); argon2-cffi's RFC 9106 defaults.

    ``concurrency`` hashes run at once at most (memory: ``concurrency x memory_kib``); a request
    waits up to ``queue_seconds`` for a turn, then gets 503 with ``Retry-After`` (issue 10 #3).
    """

    time_cost: int = 3
    memory_kib: int = 64 * 1024
    parallelism: int = 4
    concurrency: int = 2
    queue_seconds: float = 5.0


@dataclass(frozen=True)
class Rate:
    """At most ``count`` events within any ``seconds`` (a sliding window; ``services.limits``)."""

    count: int
    seconds: int


@dataclass(frozen=True)
class LimitSettings:
    """``UNIFIEDQR_LIMIT_<NAME>=count/seconds``; the defaults are the issue's fixed contract."""

    login: Rate = Rate(10, 900)  # failed log-ins for one login from one address
    login_address: Rate = Rate(100, 900)  # failed log-ins from one address, any login
    credential_address: Rate = Rate(30, 300)  # API keys and tokens that do not check out, per address
    registration: Rate = Rate(10, 3600)  # registrations of one document by one platform
    checkin_page: Rate = Rate(60, 600)  # submissions of the anonymous check-in page per address
    lookup: Rate = Rate(600, 60)  # look-ups by one account (issue 11)


@dataclass(frozen=True)
class Settings:
    """Everything the service needs, read once (:meth:`from_env`) and passed down; never re-read."""

    database_url: str
    data_dir: Path
    env: str = "development"
    issuing_key_path: Path | None = None
    at_rest_key_path: Path | None = None
    at_rest_key: bytes | None = field(default=None, repr=False)
    issuer: str = DEFAULT_ISSUER
    key_valid_days: int = 730
    token_ttl_seconds: int = 3600
    sqlite_synchronous: str = "NORMAL"
    sqlite_wal_limit_mb: int = 64
    sqlite_checkpoint_seconds: float = 1.0
    replica_url: str | None = None
    replica_max_lag_seconds: int = 5
    max_body_bytes: int = 64 * 1024
    api_key_cache_seconds: float = 5.0
    key_reload_seconds: float = 30.0
    web: WebSettings = field(default_factory=WebSettings)
    venues: VenueSettings = field(default_factory=VenueSettings)
    ingest: StreamSettings | None = None
    visit_rules: VisitRules = field(default_factory=VisitRules)
    passwords: PasswordHashing = field(default_factory=PasswordHashing)
    trusted_proxies: tuple[str, ...] = ()
    redis_url: str | None = field(default=None, repr=False)
    limits: LimitSettings = field(default_factory=LimitSettings)
    retention: RetentionSettings = field(default_factory=RetentionSettings)
    health_rules: RuleSet = field(default_factory=_default_rules)
    dcc_trust: tuple[bytes, ...] = field(default=(), repr=False)  # DER signer certificates (HC1)
    tracing: TracingSettings = field(default_factory=TracingSettings)

    @property
    def production(self) -> bool:
        return self.env == "production"

    def with_venue_base_url(self, base_url: str) -> Settings:
        """These settings with another venue-code host, checked like ``UNIFIEDQR_VENUE_BASE_URL``."""
        return replace(self, venues=replace(self.venues, base_url=venue_base_url(base_url, self.production)))

    @property
    def is_sqlite(self) -> bool:
        return make_url(self.database_url).get_backend_name() == "sqlite"

    @classmethod
    def from_env(cls, database_url: str | None = None, environ: Mapping[str, str] | None = None) -> Settings:
        env = _Env(os.environ if environ is None else environ)
        mode = (env.get("ENV") or "development").lower()
        if mode not in ("development", "production"):
            raise ConfigError("UNIFIEDQR_ENV", f"must be development or production, got {mode!r}")
        url, data_dir = _database(env, database_url)
        at_rest_inline = env.get("AT_REST_KEY")
        retention = _retention(env)
        synchronous = (env.get("SQLITE_SYNCHRONOUS") or "NORMAL").upper()
        if synchronous not in ("NORMAL", "FULL"):
            raise ConfigError("UNIFIEDQR_SQLITE_SYNCHRONOUS", "must be NORMAL or FULL")
        return cls(
            database_url=url,
            data_dir=data_dir,
            env=mode,
            issuing_key_path=Path(p).expanduser() if (p := env.get("ISSUING_KEY")) else None,
            at_rest_key_path=Path(p).expanduser() if (p := env.get("AT_REST_KEY_FILE")) else None,
            at_rest_key=decode_at_rest_key(at_rest_inline, "UNIFIEDQR_AT_REST_KEY")
            if at_rest_inline
            else None,
            issuer=env.get("ISSUER") or DEFAULT_ISSUER,
            key_valid_days=env.integer("KEY_VALID_DAYS", 730, 1),
            token_ttl_seconds=env.integer("TOKEN_TTL", 3600, 30),
            sqlite_synchronous=synchronous,
            sqlite_wal_limit_mb=env.integer("SQLITE_WAL_LIMIT_MB", 64, 1),
            replica_url=env.get("REPLICA_URL"),
            replica_max_lag_seconds=env.integer("REPLICA_MAX_LAG_SECONDS", 5, 0),
            max_body_bytes=env.integer("MAX_BODY_BYTES", 64 * 1024, 1024),
            web=WebSettings(
                session_ttl_seconds=env.integer("SESSION_TTL", 8 * 3600, 60),
                session_max_age_seconds=env.integer("SESSION_MAX_AGE", 7 * 24 * 3600, 60),
            ),
            venues=_venue_settings(env, mode == "production"),
            ingest=_ingest_settings(env),
            visit_rules=replace(_visit_rules(env), max_age_days=retention.days),
            retention=retention,
            health_rules=_health_rules(env),
            dcc_trust=_dcc_trust(Path(p).expanduser()) if (p := env.get("DCC_TRUST")) else (),
            passwords=_password_hashing(env),
            trusted_proxies=_trusted_proxies(env.get("TRUSTED_PROXIES")),
            redis_url=env.get("REDIS_URL"),
            limits=_limit_settings(env),
            tracing=_tracing_settings(env),
        )


def _database(env: _Env, database_url: str | None) -> tuple[str, Path]:
    """The database URL (the embedded SQLite file by default) and the folder its secrets live in."""
    url = database_url or env.get("DATABASE_URL")
    explicit_data_dir = env.get("DATA_DIR")
    if url is None:
        home = Path(explicit_data_dir).expanduser() if explicit_data_dir else _default_data_home(env.raw)
        url = f"sqlite:///{home / 'unifiedqr.sqlite'}"
    try:
        db_file = sqlite_path(url)
    except Exception as exc:  # sqlalchemy raises ArgumentError for a malformed URL
        raise ConfigError("UNIFIEDQR_DATABASE_URL", f"is not a database URL: {exc}") from None
    if explicit_data_dir:
        return url, Path(explicit_data_dir).expanduser().resolve()
    if db_file is not None:
        return url, db_file.with_name(db_file.stem + ".secrets")
    safe = make_url(url)
    return url, _default_data_home(env.raw) / f"{safe.host or 'local'}-{safe.database or 'db'}"


def _password_hashing(env: _Env) -> PasswordHashing:
    return PasswordHashing(
        time_cost=env.integer("PASSWORD_TIME_COST", 3, 1),
        memory_kib=env.integer("PASSWORD_MEMORY_KIB", 64 * 1024, 64),
        parallelism=env.integer("PASSWORD_PARALLELISM", 4, 1),
        concurrency=env.integer("PASSWORD_CONCURRENCY", 2, 1),
        queue_seconds=float(env.integer("PASSWORD_QUEUE_SECONDS", 5, 0)),
    )


def _tracing_settings(env: _Env) -> TracingSettings:
    return TracingSettings(
        rules_file=Path(p).expanduser() if (p := env.get("TRACING_RULES")) else None,
        max_window_days=env.integer("TRACING_MAX_WINDOW_DAYS", 0, 0),
        max_ring_depth=env.integer("TRACING_MAX_RING_DEPTH", 3, 1),
        max_ring_people=env.integer("TRACING_MAX_RING_PEOPLE", 1000, 1),
    )


class _Env:
    """The ``UNIFIEDQR_*`` variables of one environment mapping, stripped; blank means unset."""

    def __init__(self, raw: Mapping[str, str]) -> None:
        self.raw = raw

    def get(self, name: str) -> str | None:
        value = self.raw.get(ENV_PREFIX + name)
        return value.strip() if value and value.strip() else None

    def integer(self, name: str, default: int, minimum: int) -> int:
        text = self.get(name)
        if text is None:
            return default
        try:
            value = int(text)
        except ValueError:
            raise ConfigError(ENV_PREFIX + name, f"must be an integer, got {text!r}") from None
        if value < minimum:
            raise ConfigError(ENV_PREFIX + name, f"must be at least {minimum}")
        return value


def _trusted_proxies(text: str | None) -> tuple[str, ...]:
    """``UNIFIEDQR_TRUSTED_PROXIES``: IP addresses or networks, comma-separated, normalised."""
    out = []
    for item in (text or "").split(","):
        if not item.strip():
            continue
        try:
            out.append(str(ipaddress.ip_network(item.strip(), strict=False)))
        except ValueError:
            raise ConfigError(
                "UNIFIEDQR_TRUSTED_PROXIES", f"{item.strip()!r} is not an IP address or network"
            ) from None
    return tuple(out)


def _limit_settings(env: _Env) -> LimitSettings:
    """``UNIFIEDQR_LIMIT_LOGIN=10/900`` and its siblings: ``count/seconds``, both positive."""
    values: dict[str, Rate] = {}
    for name in LimitSettings.__dataclass_fields__:
        text = env.get("LIMIT_" + name.upper())
        if text is None:
            continue
        count, sep, seconds = text.partition("/")
        if not (sep and count.strip().isdigit() and seconds.strip().isdigit()):
            raise ConfigError(ENV_PREFIX + "LIMIT_" + name.upper(), "is count/seconds, e.g. 10/900")
        if int(count) < 1 or int(seconds) < 1:
            raise ConfigError(ENV_PREFIX + "LIMIT_" + name.upper(), "count and seconds must be at least 1")
        values[name] = Rate(int(count), int(seconds))
    return replace(LimitSettings(), **values)


def venue_base_url(text: str, production: bool) -> str:
    """A checked ``UNIFIEDQR_VENUE_BASE_URL``: https (or http in development), at most 47 characters."""
    from unifiedqr.codes.venue import is_base_url

    base = text.strip().rstrip("/")
    if not is_base_url(base, allow_http=not production) or len(base) > 47:
        wanted = (
            "https://<host>[:port]" if production else "https://<host>[:port] (or http:// in development)"
        )
        raise ConfigError("UNIFIEDQR_VENUE_BASE_URL", f"must be {wanted} of at most 47 characters")
    return base


def _venue_settings(env: _Env, production: bool) -> VenueSettings:
    base = venue_base_url(env.get("VENUE_BASE_URL") or DEFAULT_VENUE_BASE_URL, production)
    return VenueSettings(base_url=base, batch_cap=env.integer("BATCH_CAP", 5000, 1))


def _ingest_settings(env: _Env) -> StreamSettings | None:
    """``UNIFIEDQR_INGEST=nats://HOST:PORT``: stream mode (docs/scaling.md); unset: the direct path."""
    url = env.get("INGEST")
    if url is None:
        return None
    if not url.startswith(("nats://", "tls://")):
        raise ConfigError("UNIFIEDQR_INGEST", "must be nats://HOST:PORT (or tls://...)")
    name = (env.get("INGEST_STREAM") or "UQR_SCANS").upper()
    if not name.replace("_", "").isalnum() or len(name) > 32:
        raise ConfigError("UNIFIEDQR_INGEST_STREAM", "letters, digits and _ only, at most 32")
    return StreamSettings(
        url=url,
        stream=name,
        subject=name.lower().replace("_", "."),
        durable=name.lower().replace("_", "-") + "-writer",
        consumers=env.integer("INGEST_CONSUMERS", 1, 0),
        shards=env.integer("INGEST_SHARDS", 16, 1),
        max_age_seconds=env.integer("INGEST_MAX_AGE_HOURS", 168, 1) * 3600,
        max_bytes=env.integer("INGEST_MAX_MB", 4096, 16) * 1024 * 1024,
        publish_timeout_seconds=env.integer("INGEST_PUBLISH_TIMEOUT_MS", 2000, 50) / 1000,
        batch=env.integer("INGEST_BATCH", 500, 1),
    )


def _visit_rules(env: _Env) -> VisitRules:
    """``UNIFIEDQR_VISIT_*``: every number of the visit rules (docs/venues.md)."""

    def number(name: str, default: int, minimum: int = 0) -> int:
        return env.integer("VISIT_" + name, default, minimum)

    stays = dict(DEFAULT_STAYS)
    for item in (env.get("VISIT_STAY_MINUTES") or "").split(","):
        kind, sep, minutes = item.strip().partition("=")
        if not item.strip():
            continue
        if not sep or kind not in stays or not minutes.strip().isdigit():
            raise ConfigError("UNIFIEDQR_VISIT_STAY_MINUTES", "is type=minutes,... (e.g. shop=30,office=540)")
        stays[kind] = int(minutes)
    return VisitRules(
        duplicate_seconds=number("DUPLICATE_SECONDS", 60),
        utc_offset_minutes=number("UTC_OFFSET_MINUTES", 420, -14 * 60),
        stay_minutes=stays,
        close_at_next_check_in=number("CLOSE_AT_NEXT_CHECK_IN", 1) != 0,
        future_tolerance_seconds=number("FUTURE_TOLERANCE_SECONDS", 300),
        skew_tolerance_seconds=number("SKEW_TOLERANCE_SECONDS", 120),
    )  # max_age_days is the retention (UNIFIEDQR_RETENTION_DAYS): see _retention


def _retention(env: _Env) -> RetentionSettings:
    """``UNIFIEDQR_RETENTION_DAYS`` (alias ``UNIFIEDQR_VISIT_MAX_AGE_DAYS``) and the other windows."""
    days = env.integer("VISIT_MAX_AGE_DAYS", 30, 1)
    return RetentionSettings(
        days=env.integer("RETENTION_DAYS", days, 1),
        health_record_days=env.integer("HEALTH_RECORD_RETENTION_DAYS", 365, 1),
        audit_days=env.integer("AUDIT_RETENTION_DAYS", 730, 1),
        purge_interval_seconds=env.integer("PURGE_INTERVAL_SECONDS", 3600, 0),
        batch_rows=env.integer("PURGE_BATCH_ROWS", 100, 1),
    )


def _dcc_trust(folder: Path, limit: int = 16 * 1024 * 1024) -> tuple[bytes, ...]:
    """``UNIFIEDQR_DCC_TRUST``: every PEM or DER certificate in a folder, as DER (read once, at start)."""
    from cryptography import x509
    from cryptography.hazmat.primitives.serialization import Encoding

    where = "UNIFIEDQR_DCC_TRUST"
    if not folder.is_dir():
        raise ConfigError(where, f"{folder} is not a folder of signer certificates")
    found: list[bytes] = []
    for path in sorted(folder.iterdir()):
        if path.suffix.lower() not in (".pem", ".crt", ".cer", ".der") or not path.is_file():
            continue
        data = path.read_bytes()[: limit + 1]
        try:
            pem = b"-----BEGIN" in data
            certs = x509.load_pem_x509_certificates(data) if pem else [x509.load_der_x509_certificate(data)]
        except ValueError:
            raise ConfigError(where, f"{path} holds no readable X.509 certificate") from None
        found += [cert.public_bytes(Encoding.DER) for cert in certs]
    return tuple(found)


def _health_rules(env: _Env) -> RuleSet:
    """``UNIFIEDQR_HEALTH_RULES``: loaded and checked now, so a typo stops the start, not a door."""
    try:
        return load_rules(env.get("HEALTH_RULES") or DEFAULT_RULES)
    except InvalidInput as exc:
        raise ConfigError("UNIFIEDQR_HEALTH_RULES", str(exc)) from None


@dataclass(frozen=True)
class ClientSettings:
    """What the API client and the user-side commands read: ``UNIFIEDQR_URL``, ``_TOKEN``, ``_TOKEN_FILE``."""

    url: str | None
    token: str | None
    token_file: Path

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> ClientSettings:
        raw = os.environ if environ is None else environ
        env = _Env(raw)
        configured = env.get("TOKEN_FILE")
        if configured:
            token_file = Path(configured).expanduser()
        else:
            base = raw.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
            token_file = Path(base) / "unifiedqr" / "token.json"
        return cls(env.get("URL"), env.get("TOKEN"), token_file)


def decode_at_rest_key(text: str, where: str) -> bytes:
    """A base64url at-rest key of 32 bytes; placeholders (one repeated byte) are refused."""
    try:
        raw = base64.urlsafe_b64decode(text.strip() + "=" * (-len(text.strip()) % 4))
    except (binascii.Error, ValueError):
        raise ConfigError(where, "the at-rest key is not base64url") from None
    if len(raw) != AT_REST_KEY_BYTES:
        raise ConfigError(where, f"the at-rest key must be {AT_REST_KEY_BYTES} bytes, got {len(raw)}")
    if len(set(raw)) < 8:
        raise ConfigError(where, "the at-rest key looks like a placeholder; generate a random one")
    return raw


def read_at_rest_key_file(path: Path) -> bytes:
    try:
        data = json.loads(path.read_bytes()[:65536])
    except (OSError, ValueError) as exc:
        raise ConfigError(str(path), f"cannot read the at-rest key file ({exc})") from None
    if (
        not isinstance(data, dict)
        or data.get("kind") != AT_REST_KEY_KIND
        or not isinstance(data.get("key"), str)
    ):
        raise ConfigError(str(path), f"not an at-rest key file (kind {AT_REST_KEY_KIND!r} expected)")
    return decode_at_rest_key(data["key"], str(path))


def _write_private(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())


def _note(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def resolve_secrets(settings: Settings) -> Settings:
    """Settings with the at-rest key loaded and an issuing key in place (generated in development).

    Generated files are created with ``O_EXCL`` and mode 0600, so two processes starting at once on
    a fresh database do not overwrite each other's key (the loser reads the winner's file).
    """
    import datetime as dt

    from unifiedqr.codes.trust import SigningKey

    key = settings.at_rest_key
    key_path = settings.at_rest_key_path
    if key is None:
        if key_path is None:
            if settings.production:
                raise ConfigError(
                    "UNIFIEDQR_AT_REST_KEY_FILE",
                    "production: set it or UNIFIEDQR_AT_REST_KEY (refusing to generate one)",
                )
            key_path = settings.data_dir / "at-rest.key"
            if not key_path.exists():
                secret = base64.urlsafe_b64encode(os.urandom(AT_REST_KEY_BYTES)).rstrip(b"=").decode()
                try:
                    _write_private(
                        key_path, json.dumps({"kind": AT_REST_KEY_KIND, "version": 1, "key": secret})
                    )
                    _note(f"generated the at-rest encryption key: {key_path} (mode 0600; back it up)")
                except FileExistsError:
                    pass
        key = read_at_rest_key_file(key_path)

    issuing = settings.issuing_key_path
    if issuing is None:
        if settings.production:
            raise ConfigError(
                "UNIFIEDQR_ISSUING_KEY", "production: set it to a signing key file or directory"
            )
        issuing = settings.data_dir / "issuing-keys"
    if issuing.is_dir() or (not issuing.exists() and issuing.suffix != ".json"):
        existing = sorted(issuing.glob("*.json")) if issuing.is_dir() else []
        if not existing:
            if settings.production:
                raise ConfigError("UNIFIEDQR_ISSUING_KEY", f"production: no issuing key in {issuing}")
            new_key = SigningKey.generate(settings.issuer, dt.datetime.now(dt.UTC), settings.key_valid_days)
            target = issuing / f"{new_key.key_id}.json"
            try:
                _write_private(target, json.dumps(new_key.to_json(), indent=2))
                _note(f"generated issuing key {new_key.key_id}: {target} (mode 0600)")
            except FileExistsError:
                pass
    elif not issuing.exists():
        raise ConfigError("UNIFIEDQR_ISSUING_KEY", f"{issuing} does not exist")
    return replace(settings, at_rest_key=key, at_rest_key_path=key_path, issuing_key_path=issuing)


def tesseract_setting(environ: Mapping[str, str] | None = None) -> str | None:
    """``UNIFIEDQR_TESSERACT``: the OCR engine of ``conformance check`` (default: ``tesseract`` on PATH)."""
    return _Env(os.environ if environ is None else environ).get("TESSERACT")
