"""Anonymise a folder (or an S3 prefix) of photos with Ray Data.

    python ray_dataset.py INPUT OUTPUT_DIR [--actors N] [--address ADDR] [--gpu]

INPUT is a local folder or an s3://bucket/prefix; OUTPUT_DIR a local folder or
an S3 prefix. Each photo gets one output file at the same relative path, and
OUTPUT_DIR/reports/ gets a Parquet table with one row per input (path, output,
faces, metadata_removed, status, error). A photo that fails is listed there
(and printed) and has no output: blindfold never writes a photo it could not
anonymise. Exits with status 1 when any photo failed.

Each actor holds one blindfold.Anonymizer (the model is loaded once per
actor). Locally Ray starts on this machine; on a cluster pass
--address auto (or ray://head:10001) and the same code runs on every node;
with --gpu each actor takes one GPU and runs ONNX Runtime's CUDA provider
(every node then needs a GPU build of ONNX Runtime: BLINDFOLD_ORT_LIB).
"""

import argparse
import os
import sys
import uuid
from urllib.parse import urlparse

import pyarrow.fs
import pyarrow.parquet as pq
import ray

EXTENSIONS = ["jpg", "jpeg", "png", "webp", "tif", "tiff", "bmp"]


def filesystem(uri):
    """(pyarrow filesystem, path inside it) for a local path or a URI."""
    if "://" in uri:
        return pyarrow.fs.FileSystem.from_uri(uri)
    return pyarrow.fs.LocalFileSystem(), os.path.abspath(uri)


def relative(path, root):
    """`path` (as Ray reports it, without a scheme) relative to `root`."""
    root = urlparse(root).netloc + urlparse(root).path if "://" in root else os.path.abspath(root)
    path = urlparse(path).netloc + urlparse(path).path if "://" in path else path
    return os.path.relpath(path, root)


class Anonymize:
    """Ray Data class UDF: one Anonymizer per actor, a batch of files in, the
    anonymised bytes and a report row per file out."""

    def __init__(self, backend, threads):
        import blindfold

        self.errors = blindfold.Error
        self.anon = blindfold.Anonymizer(backend=backend, jobs=1, threads=threads)

    def __call__(self, batch):
        rows = {k: [] for k in ("path", "data", "faces", "metadata_removed", "status", "error")}
        for path, data in zip(batch["path"], batch["bytes"]):
            try:
                result = self.anon.anonymize(bytes(data))
                out, rep, status, err = result.data, result.report, "ok", ""
            except self.errors as e:  # fail closed: no bytes for this photo
                out, rep, status, err = b"", {"faces": [], "metadata_removed": []}, "error", str(e)
            rows["path"].append(path)
            rows["data"].append(out)
            rows["faces"].append(len(rep["faces"]))
            rows["metadata_removed"].append(",".join(rep["metadata_removed"]))
            rows["status"].append(status)
            rows["error"].append(err)
        return rows


def write_outputs(batch, input_root, output_root):
    """Write each anonymised photo (through a temporary name, then a rename),
    and drop the bytes from the rows."""
    fs, base = filesystem(output_root)
    outputs = []
    for path, data, status in zip(batch["path"], batch["data"], batch["status"]):
        if status != "ok":
            outputs.append("")
            continue
        target = f"{base}/{relative(path, input_root)}"
        fs.create_dir(os.path.dirname(target), recursive=True)
        tmp = f"{target}.{uuid.uuid4().hex}.tmp"
        with fs.open_output_stream(tmp) as f:
            f.write(bytes(data))
        fs.move(tmp, target)
        outputs.append(target)
    batch = {k: v for k, v in batch.items() if k != "data"}
    batch["output"] = outputs
    return batch


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("input")
    ap.add_argument("output")
    ap.add_argument("--actors", type=int, default=2, help="Anonymizer actors (concurrency)")
    ap.add_argument("--threads", type=int, default=1, help="inference threads per actor")
    ap.add_argument("--address", default=None, help="Ray cluster address (default: start Ray here)")
    ap.add_argument("--gpu", action="store_true", help="one GPU per actor, backend ort-cuda")
    ap.add_argument("--batch-size", type=int, default=4)
    args = ap.parse_args()

    if args.address:
        ray.init(address=args.address)
    else:
        # Here: one logical CPU per actor thread plus one for reading and
        # writing, or the actors would hold every CPU and the job would stall.
        need = args.actors * args.threads + 1
        ray.init(num_cpus=max(os.cpu_count() or 1, need), include_dashboard=False)
    light = {"num_cpus": 0.5}  # reading and writing files: mostly waiting
    ds = ray.data.read_binary_files(
        args.input, include_paths=True, file_extensions=EXTENSIONS, ray_remote_args=light
    )
    ds = ds.map_batches(
        Anonymize,
        fn_constructor_kwargs={"backend": "ort-cuda" if args.gpu else "auto", "threads": args.threads},
        concurrency=args.actors,
        batch_size=args.batch_size,
        num_gpus=1 if args.gpu else 0,
        num_cpus=args.threads,
    )
    ds = ds.map_batches(
        write_outputs,
        fn_kwargs={"input_root": args.input, "output_root": args.output},
        **light,
    )
    reports = args.output.rstrip("/") + "/reports"
    ds.write_parquet(reports, ray_remote_args=light)

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
