"""The platform's secrets: files of 32 random bytes (base64) in one directory.

- ``master``: wraps every service's data keys (``crypto.Keyring``); without it,
  no stored key can be unwrapped.
- ``fingerprint``: keys the HMAC of a person's normalised e-mail (R2), so that
  an excluded identity is recognised for ever without being stored in clear.
- ``operator``: the platform operator's bearer credential (registering partner
  organisations, publishing a charter version): the file's text is the token.

Locally ``make up`` creates them once in ``.stack/secrets`` (mode 0600); in a
real deployment they are mounted (``deploy/k8s``) and ``MENTORING_SECRETS_DIR``
says where. A missing secret is a one-line error naming the file.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import os
import secrets as random
from pathlib import Path

#: The secrets every process may need, by name.
NAMES: tuple[str, ...] = ("master", "fingerprint", "operator")
KEY_BYTES = 32
_ROOT = Path(__file__).resolve().parents[2]


class SecretError(RuntimeError):
    """A secret is missing or unreadable; the message names the file."""


def directory() -> Path:
    configured = os.environ.get("MENTORING_SECRETS_DIR", "").strip()
    return Path(configured) if configured else _ROOT / ".stack" / "secrets"


def load_text(name: str) -> str:
    """The secret as written (base64): the operator's token is this text."""
    path = directory() / f"{name}.key"
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        raise SecretError(f"secret {name!r} is missing ({path}): `make up` creates it") from None
    except OSError as exc:
        raise SecretError(f"secret {name!r} is unreadable ({path}): {exc.strerror}") from None


def is_operator(credential: str | None) -> bool:
    """Whether a bearer credential is the platform operator's (compared in constant
    time: the comparison must not tell how much of a guess was right)."""
    if not credential:
        return False
    return hmac.compare_digest(credential.encode(), load_text("operator").encode())


def load(name: str) -> bytes:
    raw = load_text(name)
    path = directory() / f"{name}.key"
    try:
        key = base64.b64decode(raw, validate=True)
    except (binascii.Error, ValueError):
        raise SecretError(f"secret {name!r} is not base64 ({path})") from None
    if len(key) != KEY_BYTES:
        raise SecretError(f"secret {name!r} must be {KEY_BYTES} bytes, not {len(key)} ({path})")
    return key


def ensure_all(where: Path | None = None) -> list[str]:
    """Create the secrets that do not exist yet; returns the names created.

    Never overwrites: a new master secret would make every stored key unreadable.
    """
    folder = where or directory()
    folder.mkdir(parents=True, exist_ok=True)
    os.chmod(folder, 0o700)
    created = []
    for name in NAMES:
        path = folder / f"{name}.key"
        if path.exists():
            continue
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(base64.b64encode(random.token_bytes(KEY_BYTES)).decode() + "\n")
        created.append(name)
    return created
