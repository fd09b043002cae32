"""A systemd unit for a kiosk that runs unattended: started at boot,
restarted on failure, as an unprivileged user whose data folder no one else
can read. ``kiosk install-service`` writes it; docs/deployment.md says how
to install it."""

from __future__ import annotations

import re
import shutil
import sys
from pathlib import Path

from surveycore.errors import ConfigError
from kiosk.config import KioskConfig

_USER_RE = re.compile(r"[a-z_][a-z0-9_-]{0,31}")


def _quote(value: str) -> str:
    """A path as one systemd word (quoted when it holds spaces)."""
    if any(c in value for c in "\"\\\n"):
        raise ConfigError(f"path {value!r} holds a quote, a backslash or a line break; move the kiosk to a "
                          "plainer path", code="CFG-050")
    return f'"{value}"' if " " in value else value


def kiosk_command() -> str:
    """The ``kiosk`` executable of this installation (its virtualenv)."""
    beside = Path(sys.executable).with_name("kiosk")
    found = beside if beside.exists() else shutil.which("kiosk")
    if not found:
        raise ConfigError("cannot find the 'kiosk' command of this installation; run install-service with "
                          ".venv/bin/kiosk", code="CFG-051")
    return str(Path(found).absolute())


def unit_text(cfg: KioskConfig, user: str, executable: str | None = None) -> str:
    """The text of the systemd service unit for this kiosk."""
    if not _USER_RE.fullmatch(user) or user == "root":
        raise ConfigError(f"--user {user!r}: give an unprivileged system user name (lowercase letters, digits, "
                          "'_' or '-'), never root", code="CFG-052")
    writable = sorted({str(cfg.data_dir), str(cfg.pin_file.parent)})
    exe = executable or kiosk_command()
    return f"""# Health-survey kiosk, written by 'kiosk install-service' (docs/deployment.md).
[Unit]
Description=Health-survey kiosk ({cfg.path})
Wants=network-online.target
After=network-online.target

[Service]
Type=simple
User={user}
Group={user}
WorkingDirectory={_quote(str(cfg.path.parent))}
ExecStart={_quote(exe)} serve --config {_quote(str(cfg.path))}
# Restarted when it fails, not when staff stop it; SIGTERM reaches the
# server through 'kiosk serve', which waits for it to stop.
Restart=on-failure
RestartSec=5
KillMode=mixed
TimeoutStopSec=30
# Files it creates are readable by its user only: the outbox stays private.
UMask=0077
NoNewPrivileges=yes
PrivateTmp=yes
PrivateDevices=yes
ProtectSystem=strict
ProtectHome=read-only
ReadWritePaths={" ".join(_quote(w) for w in writable)}
ProtectKernelTunables=yes
ProtectKernelModules=yes
ProtectControlGroups=yes
RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX
LockPersonality=yes
RestrictRealtime=yes

[Install]
WantedBy=multi-user.target
"""


def install_steps(cfg: KioskConfig, user: str, unit: Path) -> list[str]:
    """The root commands that put the unit in service."""
    name = unit.name
    return [
        f"useradd --system --home-dir {_quote(str(cfg.data_dir))} --shell /usr/sbin/nologin {user}",
        f"install -d -m 0700 -o {user} -g {user} {_quote(str(cfg.data_dir))}",
        f"chown -R {user}:{user} {_quote(str(cfg.data_dir))} && chmod -R go-rwx {_quote(str(cfg.data_dir))}",
        f"chown {user}:{user} {_quote(str(cfg.pin_file))} {_quote(str(cfg.device_key))}",
        f"cp {_quote(str(unit))} /etc/systemd/system/{name}",
        f"systemctl daemon-reload && systemctl enable --now {name}",
    ]
