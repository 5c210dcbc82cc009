"""`python -m vae_core.train`: the command line lives in vae_core.cli.train."""

import sys

from vae_core.cli.train import main

if __name__ == "__main__":
    sys.exit(main())
