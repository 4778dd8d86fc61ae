"""`python -m bot`: the same as the `ai-intake` command."""

import sys

from bot.cli import main

sys.exit(main())
