"""The kiosk's own configuration file (``kiosk.toml``) and its runtime.

The TOML file says where the survey, the team public key, the device key and
the data folder are, and how the server binds. Paths are relative to the
file. :class:`KioskRuntime` ties survey, keys and outbox together for the
pages: it seals and stores; it can never read a response back.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from surveycore.definitions import record_of
from surveycore.errors import ConfigError, KioskError, StoreError
from surveycore.keys import TeamPublicKey, load_public_key
from surveycore.questionnaire import Survey, load_survey
from surveycore.response import max_body_size, response_body
from kiosk.definitions import check_versions
from kiosk.flow import Respondent
from kiosk.keys import load_device_key
from kiosk.sealing import seal
from kiosk.store import Outbox, Storage

CONFIG_ENV = "KIOSK_CONFIG"


@dataclass(frozen=True)
class KioskConfig:
    """Settings read from ``kiosk.toml``."""

    path: Path
    survey: Path
    module_dirs: tuple[Path, ...]
    public_key: Path
    device_key: Path
    data_dir: Path
    pin_file: Path
    address: str = "127.0.0.1"
    port: int = 8501
    allowed_hosts: tuple[str, ...] = ()
    tls_cert: Path | None = None
    tls_key: Path | None = None
    extra: dict[str, object] = field(default_factory=dict)

    @property
    def outbox_path(self) -> Path:
        """The SQLite outbox file."""
        return self.data_dir / "outbox.sqlite3"


def load_config(path: str | Path) -> KioskConfig:
    """Read ``kiosk.toml``; raise :class:`ConfigError` naming the key to fix."""
    p = Path(path).resolve()
    try:
        raw = tomllib.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"configuration file {str(p)!r} not found; run 'kiosk demo' to create an "
                          "example", code="CFG-002") from None
    except IsADirectoryError:
        raise ConfigError(f"{str(p)!r} is a folder; give the kiosk.toml file inside it", code="CFG-002") from None
    except OSError as exc:
        raise ConfigError(f"cannot read the configuration file {str(p)!r}: {exc.strerror}; check its "
                          "permissions", code="CFG-002") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{str(p)!r} is not UTF-8 text; save it as UTF-8", code="CFG-003") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{str(p)!r} is not valid TOML: {exc}", code="CFG-003") from None
    k, s = raw.get("kiosk", {}), raw.get("server", {})
    for name, table in (("kiosk", k), ("server", s)):
        if not isinstance(table, dict):
            raise ConfigError(f"{str(p)!r}: '{name}' must be a [{name}] table, not {type(table).__name__}; "
                              "see demo/kiosk.toml", code="CFG-006")
    base = p.parent

    def wrong(key: str, want: str, value: object) -> ConfigError:
        return ConfigError(f"{str(p)!r}: {key} must be {want}, not {value!r}; see demo/kiosk.toml",
                           code="CFG-006")

    def path_of(key: str, default: str | None = None) -> Path:
        value = k.get(key, default)
        if not value:
            raise ConfigError(f"{str(p)!r}: [kiosk] {key} is missing; give a path", code="CFG-004")
        if not isinstance(value, str):
            raise wrong(f"[kiosk] {key}", "a path in quotes", value)
        return (base / value).resolve()

    def text_list(table: dict, section: str, key: str) -> list[str]:
        value = table.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise wrong(f"[{section}] {key}", "a list of quoted texts", value)
        return value

    port = s.get("port", 8501)
    if not isinstance(port, int) or isinstance(port, bool) or not 0 < port < 65536:
        raise wrong("[server] port", "a number from 1 to 65535", port)
    address = s.get("address", "127.0.0.1")
    if not isinstance(address, str):
        raise wrong("[server] address", "an address in quotes", address)
    tls_cert = s.get("tls_cert")
    tls_key = s.get("tls_key")
    for key, value in (("tls_cert", tls_cert), ("tls_key", tls_key)):
        if value is not None and not isinstance(value, str):
            raise wrong(f"[server] {key}", "a path in quotes", value)
    return KioskConfig(
        path=p, survey=path_of("survey"),
        module_dirs=tuple((base / d).resolve() for d in text_list(k, "kiosk", "modules")),
        public_key=path_of("public_key"), device_key=path_of("device_key"),
        data_dir=path_of("data_dir", "data"), pin_file=path_of("pin_file", "staff.pin"),
        address=address, port=port,
        allowed_hosts=tuple(text_list(s, "server", "allowed_hosts")),
        tls_cert=(base / tls_cert).resolve() if tls_cert else None,
        tls_key=(base / tls_key).resolve() if tls_key else None,
    )


class KioskRuntime:
    """Survey, keys and outbox of one kiosk, shared by all sessions.

    Holds no patient data: respondents live in each session's state and are
    passed in only to be sealed.
    """

    def __init__(self, config: KioskConfig) -> None:
        self.config = config
        self.survey: Survey = load_survey(config.survey, list(config.module_dirs))
        self.public_key: TeamPublicKey = load_public_key(config.public_key)
        self.device_key = load_device_key(config.device_key)
        self.outbox = Outbox(config.outbox_path)
        try:
            # A definition changed under an unchanged version is refused, and
            # what the kiosk runs is recorded so every bundle describes it.
            check_versions(self.survey, self.outbox.surveys_run())
            record = record_of(self.survey)
            self.outbox.record_survey(record.manifest, record.files)
        except KioskError:
            self.outbox.close()
            raise
        self.pad_to = max_body_size(self.survey)
        self.last_error: KioskError | None = None

    # Staff switches, kept in the outbox's meta table so a restart keeps them.
    @property
    def paused(self) -> bool:
        """"Out of service": the welcome screen asks patients to see reception."""
        return self.outbox.meta("paused") == "1"

    @paused.setter
    def paused(self, value: bool) -> None:
        self.outbox.set_meta("paused", "1" if value else "0")

    @property
    def test_mode(self) -> bool:
        """Responses are marked ``test`` and excluded from the analysis."""
        return self.outbox.meta("test_mode") == "1"

    @test_mode.setter
    def test_mode(self, value: bool) -> None:
        self.outbox.set_meta("test_mode", "1" if value else "0")

    def submit(self, respondent: Respondent, status: str = "complete",
               today: dt.date | None = None) -> str:
        """Seal and durably store a response; return its envelope id. The
        caller thanks the patient only after this returns."""
        body = respondent.body(status, today, test=self.test_mode)
        return self._store(body)

    def decline(self, lang: str, today: dt.date | None = None) -> str:
        """Count a "no thanks" at consent: an envelope with no answers."""
        body = response_body(self.survey, lang, "declined", {}, [], today, test=self.test_mode)
        return self._store(body)

    def _store(self, body: dict) -> str:
        try:
            envelope = seal(body, self.public_key, self.device_key, self.pad_to)
            self.outbox.put(body["id"], envelope)
        except KioskError as exc:
            # The staff area shows the fault; the patient sees a calm message.
            self.last_error = exc
            raise
        except OSError as exc:
            self.last_error = StoreError(f"could not store the response: {exc.strerror or exc.__class__.__name__}",
                                         code="S-015")
            raise self.last_error from None
        self.last_error = None
        return body["id"]

    def disk_free(self) -> int:
        """Free bytes on the data folder's disk."""
        return shutil.disk_usage(self.config.data_dir).free

    @property
    def envelope_size(self) -> int:
        """Bytes of every envelope of this survey (they are all padded alike)."""
        from surveycore.envelope import HEADER_LEN, bucket_size
        enc = 1120 if self.public_key.suite == 1 else 32  # HPKE encapsulation (docs/envelope.md §2.2)
        return HEADER_LEN + enc + bucket_size(self.pad_to) + 16

    def storage(self) -> Storage:
        """How full the outbox's disk is: ``ok``, ``low`` (warn staff) or ``full``."""
        return self.outbox.storage(self.envelope_size)

    @property
    def out_of_service(self) -> bool:
        """Paused by staff, or the storage is full: patients are asked to see
        reception instead of answering a survey that could not be stored."""
        return self.paused or self.storage().level == "full"


def config_path_from_env() -> Path:
    """The configuration path given to the Streamlit app by ``kiosk serve``."""
    value = os.environ.get(CONFIG_ENV)
    if not value:
        raise ConfigError(f"{CONFIG_ENV} is not set; start the kiosk with 'kiosk serve' or 'kiosk demo'",
                          code="CFG-005")
    return Path(value)
