"""Random secrets shared by every Lotse process on one database (table `secrets`): the key that hides
who wrote an anonymous pilot entry, the key that makes chart file names unguessable."""

from __future__ import annotations

import secrets

from sqlalchemy.exc import IntegrityError

from bot.storage.db import Database
from bot.storage.models import SecretRow


def load_key(db: Database, name: str = "author-key") -> bytes:
    """The 32-byte secret `name`: created once (by whichever process is first), then read by all."""
    with db.session() as s:
        found = s.get(SecretRow, name)
        if found is not None:
            return found.value
    try:
        with db.session() as s:
            s.add(SecretRow(name=name, value=secrets.token_bytes(32)))
    except IntegrityError:  # another process created it meanwhile: use theirs
        pass
    with db.session() as s:
        return s.get(SecretRow, name).value
