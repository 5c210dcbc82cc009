"""What is read from and written to disk, trusting nothing that is read.

header            a checkpoint's safetensors header, checked field by field (no torch)
checkpoint        save_checkpoint / load_checkpoint (atomic, never pickles, probed at load)
atomic            the one atomic write (temporary file named after its writer, fsync, rename)
registry          which model files are here, usable or not with the reason (no torch)
projection_cache  fitted maps on disk: shipped (read only) and the app's cache (bounded)
classifier_file   the sample-judging classifier's files
paths             an output path checked before any work
user_models       a user's own model files renamed or deleted (their folder only, atomic, hostile names refused)
jsonable          strict JSON values (inf/NaN as null)
onnx_graph        one ONNX graph checked without running it (untrusted: bounds, domains, external data)
onnx_folder       an ONNX model folder: described for the registry, loaded and probed for use
onnx_export       our models written as ONNX model folders
"""

from .._lazy import exports

__getattr__, __dir__ = exports(
    __name__,
    {
        "CheckpointError": "header",
        "load_checkpoint": "checkpoint",
        "save_checkpoint": "checkpoint",
        "read_meta": "checkpoint",
        "read_extras": "checkpoint",
        "atomic_write": "atomic",
        "ModelEntry": "registry",
        "scan": "registry",
    },
)
