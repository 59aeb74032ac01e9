"""Anonymise a folder (or an S3 prefix) of photos with Daft.

    python daft_dataset.py INPUT OUTPUT_DIR [--workers N] [--ray [ADDR]] [--gpu]

The same job as ray_dataset.py: one output file per photo at the same
relative path, OUTPUT_DIR/reports/ a Parquet table with one row per input
(path, output, faces, metadata_removed, status, error); a photo that fails is
listed (and printed) and has no output. Exits with status 1 when any failed.

A Daft class UDF holds one blindfold.Anonymizer per worker. Daft runs here on
its native runner; --ray runs it on Ray (a cluster with --ray auto or
--ray ray://head:10001); --gpu gives each worker a GPU and the ort-cuda
backend (a GPU build of ONNX Runtime on every node: BLINDFOLD_ORT_LIB).
"""

import argparse
import os
import sys
import uuid
from urllib.parse import urlparse

import daft
import pyarrow.fs
import pyarrow.parquet as pq
from daft import DataType, col

PHOTO = r"(?i).*\.(jpe?g|png|webp|tiff?|bmp)$"

REPORT = DataType.struct(
    {
        "output": DataType.string(),
        "faces": DataType.int64(),
        "metadata_removed": DataType.string(),
        "status": DataType.string(),
        "error": DataType.string(),
    }
)


def filesystem(uri):
    """(pyarrow filesystem, path inside it) for a local path or a URI."""
    if "://" in uri:
        return pyarrow.fs.FileSystem.from_uri(uri)
    return pyarrow.fs.LocalFileSystem(), os.path.abspath(uri)


def relative(path, root):
    """`path` (a URI or a path) relative to `root`."""
    strip = lambda p: (urlparse(p).netloc + urlparse(p).path) if "://" in p else os.path.abspath(p)
    return os.path.relpath(strip(path), strip(root))


class Anonymize:
    """One Anonymizer per worker: anonymise a photo, write it (through a
    temporary name and a rename), return its report row."""

    def __init__(self, backend, threads, input_root, output_root):
        import blindfold

        self.errors = blindfold.Error
        self.anon = blindfold.Anonymizer(backend=backend, jobs=1, threads=threads)
        self.input_root, self.output_root = input_root, output_root

    @daft.method(return_dtype=REPORT)
    def __call__(self, path, data):
        try:
            result = self.anon.anonymize(data)
        except self.errors as e:  # fail closed: nothing is written
            return {"output": None, "faces": 0, "metadata_removed": "", "status": "error", "error": str(e)}
        fs, base = filesystem(self.output_root)
        target = f"{base}/{relative(path, self.input_root)}"
        fs.create_dir(os.path.dirname(target), recursive=True)
        tmp = f"{target}.{uuid.uuid4().hex}.tmp"
        with fs.open_output_stream(tmp) as f:
            f.write(result.data)
        fs.move(tmp, target)
        rep = result.report
        return {
            "output": target,
            "faces": len(rep["faces"]),
            "metadata_removed": ",".join(rep["metadata_removed"]),
            "status": "ok",
            "error": "",
        }


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("input")
    ap.add_argument("output")
    ap.add_argument("--workers", type=int, default=2, help="Anonymizer instances (concurrency)")
    ap.add_argument("--threads", type=int, default=1, help="inference threads per worker")
    ap.add_argument("--ray", nargs="?", const="", default=None, metavar="ADDR",
                    help="run on Ray (a local one, or the cluster at ADDR)")
    ap.add_argument("--gpu", action="store_true", help="one GPU per worker, backend ort-cuda")
    args = ap.parse_args()

    if args.ray is not None:
        daft.set_runner_ray(address=args.ray or None)
    udf = daft.cls(
        Anonymize,
        max_concurrency=args.workers,
        cpus=args.threads,
        gpus=1 if args.gpu else 0,
        use_process=True,
    )(
        "ort-cuda" if args.gpu else "auto",
        args.threads,
        args.input,
        args.output,
    )
    pattern = args.input.rstrip("/") + "/**"
    df = daft.from_glob_path(pattern).where(col("path").regexp(PHOTO))
    df = df.with_column("bytes", col("path").download())
    df = df.with_column("r", udf(col("path"), col("bytes")))
    df = df.select(
        col("path"),
        col("r")["output"].alias("output"),
        col("r")["faces"].alias("faces"),
        col("r")["metadata_removed"].alias("metadata_removed"),
        col("r")["status"].alias("status"),
        col("r")["error"].alias("error"),
    )
    reports = args.output.rstrip("/") + "/reports"
    df.write_parquet(reports)

    fs, path = filesystem(reports)
    table = pq.read_table(path, filesystem=fs, columns=["path", "status", "error", "faces"]).to_pylist()
    failed = [r for r in table if r["status"] != "ok"]
    faces = sum(r["faces"] for r in table)
    print(f"{len(table) - len(failed)} photos anonymised ({faces} faces), {len(failed)} failed; reports in {reports}")
    for r in failed:
        print(f"FAILED {r['path']}: {r['error']}")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
