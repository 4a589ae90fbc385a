"""The names an entry or a pilot may not take (its first word would be read as a subcommand) are known
as soon as the forms are imported — not only once the chat's command module happens to be imported, as
before (issue 21: `lotse register add` then accepted a name the chat could not reach)."""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import ROOT


def test_reserved_names_do_not_depend_on_which_module_was_imported_first():
    code = (
        "from bot.register.forms import RESERVED as R; from bot.pilots.forms import RESERVED as P; import sys; "
        "sys.exit(0 if {'liste', 'zeige', 'export'} <= R and {'liste', 'gruppe'} <= P else 1)"
    )
    assert subprocess.run([sys.executable, "-c", code], cwd=ROOT, timeout=60).returncode == 0
