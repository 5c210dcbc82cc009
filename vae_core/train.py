"""`python -m vae_core.train`: the command line lives in vae_core.cli.train."""

import os
import sys

from vae_core.cli.train import main

if __name__ == "__main__":
    code = main()
    if int(os.environ.get("WORLD_SIZE", "1")) > 1:
        # A torchrun rank, its group destroyed and its file (rank 0) written and closed: leave
        # without the interpreter's finalisation, where a C++ thread of the process group's
        # transport, destroyed while joinable, once aborted a rank ("terminate called without an
        # active exception") and torchrun then failed a run that had finished.
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    sys.exit(code)
