"""`python -m bot.app.cli`: the same as the `lotse` command."""

import sys

from bot.app.cli import main

sys.exit(main())
