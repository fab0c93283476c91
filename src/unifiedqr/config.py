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
``UNIFIEDQR_MAX_BODY_BYTES``       request body cap (default 65536)
=================================  ==============================================================
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

from sqlalchemy.engine import make_url

from unifiedqr.errors import ConfigError

ENV_PREFIX = "UNIFIEDQR_"
AT_REST_KEY_KIND = "unifiedqr-at-rest-key"
AT_REST_KEY_BYTES = 32
DEFAULT_ISSUER = "Unified Personal QR national platform"


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
class Settings:
    """Everything the service needs to start; build with :meth:`from_env`, then :func:`bootstrap`."""

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
    max_body_bytes: int = 64 * 1024
    api_key_cache_seconds: float = 5.0
    key_reload_seconds: float = 30.0

    @property
    def production(self) -> bool:
        return self.env == "production"

    @property
    def is_sqlite(self) -> bool:
        return make_url(self.database_url).get_backend_name() == "sqlite"

    @classmethod
    def from_env(cls, database_url: str | None = None, environ: Mapping[str, str] | None = None) -> Settings:
        env_map = os.environ if environ is None else environ

        def get(name: str) -> str | None:
            value = env_map.get(ENV_PREFIX + name)
            return value.strip() if value and value.strip() else None

        env = (get("ENV") or "development").lower()
        if env not in ("development", "production"):
            raise ConfigError(f"UNIFIEDQR_ENV must be development or production, got {env!r}")
        url = database_url or get("DATABASE_URL")
        explicit_data_dir = get("DATA_DIR")
        if url is None:
            home = Path(explicit_data_dir).expanduser() if explicit_data_dir else _default_data_home(env_map)
            url = f"sqlite:///{home / 'unifiedqr.sqlite'}"
        try:
            db_file = sqlite_path(url)
        except Exception as exc:  # sqlalchemy raises ArgumentError for a malformed URL
            raise ConfigError(f"UNIFIEDQR_DATABASE_URL is not a database URL: {exc}") from None
        if explicit_data_dir:
            data_dir = Path(explicit_data_dir).expanduser().resolve()
        elif db_file is not None:
            data_dir = db_file.with_name(db_file.stem + ".secrets")
        else:
            safe = make_url(url)
            data_dir = _default_data_home(env_map) / f"{safe.host or 'local'}-{safe.database or 'db'}"
        at_rest_inline = get("AT_REST_KEY")
        synchronous = (get("SQLITE_SYNCHRONOUS") or "NORMAL").upper()
        if synchronous not in ("NORMAL", "FULL"):
            raise ConfigError("UNIFIEDQR_SQLITE_SYNCHRONOUS must be NORMAL or FULL")
        settings = cls(
            database_url=url,
            data_dir=data_dir,
            env=env,
            issuing_key_path=Path(p).expanduser() if (p := get("ISSUING_KEY")) else None,
            at_rest_key_path=Path(p).expanduser() if (p := get("AT_REST_KEY_FILE")) else None,
            at_rest_key=decode_at_rest_key(at_rest_inline, "UNIFIEDQR_AT_REST_KEY")
            if at_rest_inline
            else None,
            issuer=get("ISSUER") or DEFAULT_ISSUER,
            key_valid_days=env_int(get("KEY_VALID_DAYS"), 730, "KEY_VALID_DAYS", 1),
            token_ttl_seconds=env_int(get("TOKEN_TTL"), 3600, "TOKEN_TTL", 30),
            sqlite_synchronous=synchronous,
            max_body_bytes=env_int(get("MAX_BODY_BYTES"), 64 * 1024, "MAX_BODY_BYTES", 1024),
        )
        return settings


def env_int(text: str | None, default: int, name: str, minimum: int) -> int:
    """An integer setting ``UNIFIEDQR_<name>``: ``default`` when unset, a ConfigError naming it otherwise."""
    if text is None:
        return default
    try:
        value = int(text)
    except ValueError:
        raise ConfigError(f"{ENV_PREFIX}{name} must be an integer, got {text!r}") from None
    if value < minimum:
        raise ConfigError(f"{ENV_PREFIX}{name} must be at least {minimum}")
    return value


def decode_at_rest_key(text: str, where: str) -> bytes:
    """A base64url at-rest key of 32 bytes; placeholders (one repeated byte) are refused."""
    try:
        raw = base64.urlsafe_b64decode(text.strip() + "=" * (-len(text.strip()) % 4))
    except (binascii.Error, ValueError):
        raise ConfigError(f"{where}: the at-rest key is not base64url") from None
    if len(raw) != AT_REST_KEY_BYTES:
        raise ConfigError(f"{where}: the at-rest key must be {AT_REST_KEY_BYTES} bytes, got {len(raw)}")
    if len(set(raw)) < 8:
        raise ConfigError(f"{where}: the at-rest key looks like a placeholder; generate a random one")
    return raw


def read_at_rest_key_file(path: Path) -> bytes:
    try:
        data = json.loads(path.read_bytes()[:65536])
    except (OSError, ValueError) as exc:
        raise ConfigError(f"{path}: cannot read the at-rest key file ({exc})") from None
    if (
        not isinstance(data, dict)
        or data.get("kind") != AT_REST_KEY_KIND
        or not isinstance(data.get("key"), str)
    ):
        raise ConfigError(f"{path}: not an at-rest key file (kind {AT_REST_KEY_KIND!r} expected)")
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
                    "production: set UNIFIEDQR_AT_REST_KEY_FILE or UNIFIEDQR_AT_REST_KEY"
                    " (refusing to generate one)"
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
            raise ConfigError("production: set UNIFIEDQR_ISSUING_KEY to a signing key file or directory")
        issuing = settings.data_dir / "issuing-keys"
    if issuing.is_dir() or (not issuing.exists() and issuing.suffix != ".json"):
        existing = sorted(issuing.glob("*.json")) if issuing.is_dir() else []
        if not existing:
            if settings.production:
                raise ConfigError(f"production: no issuing key in {issuing}")
            new_key = SigningKey.generate(settings.issuer, dt.datetime.now(dt.UTC), settings.key_valid_days)
            target = issuing / f"{new_key.key_id}.json"
            try:
                _write_private(target, json.dumps(new_key.to_json(), indent=2))
                _note(f"generated issuing key {new_key.key_id}: {target} (mode 0600)")
            except FileExistsError:
                pass
    elif not issuing.exists():
        raise ConfigError(f"UNIFIEDQR_ISSUING_KEY: {issuing} does not exist")
    return replace(settings, at_rest_key=key, at_rest_key_path=key_path, issuing_key_path=issuing)
