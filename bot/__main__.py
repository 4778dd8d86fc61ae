"""`python -m bot`: the same as the `ai-intake` command."""

import sys

from bot.entry.cli import main

sys.exit(main())
