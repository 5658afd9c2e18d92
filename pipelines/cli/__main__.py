"""`python -m pipelines.cli.main`: the `tokenplan` command."""

import sys

from pipelines.cli.main import main

sys.exit(main())
