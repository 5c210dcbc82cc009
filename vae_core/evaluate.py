"""`python -m vae_core.evaluate`: the command line lives in vae_core.cli.evaluate."""

import sys

from vae_core.cli.evaluate import main

if __name__ == "__main__":
    sys.exit(main())
