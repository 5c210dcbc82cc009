"""`python -m vae_core.export_onnx`: the command line lives in vae_core.cli.export_onnx."""

import sys

from vae_core.cli.export_onnx import main

if __name__ == "__main__":
    sys.exit(main())
