"""`python -m vae_core.sweep`: the command line lives in vae_core.cli.sweep."""

import sys

from vae_core.cli.sweep import main

if __name__ == "__main__":
    sys.exit(main())
