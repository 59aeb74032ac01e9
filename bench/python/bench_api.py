"""Photos/s through the Python API: one Anonymizer with `jobs` detectors and
a thread pool of `jobs` threads, reading each photo, anonymising it and
writing the output (as the CLI does). Prints one JSON line.

    python bench_api.py DATA_DIR OUT_DIR JOBS
"""

import json
import os
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import blindfold

EXT = (".jpg", ".jpeg", ".png", ".webp", ".tif", ".tiff", ".bmp")


def main(data, out, jobs):
    files = sorted(
        os.path.join(d, f) for d, _, fs in os.walk(data) for f in fs if f.lower().endswith(EXT)
    )
    start = time.perf_counter()
    anon = blindfold.Anonymizer(jobs=jobs)
    loaded = time.perf_counter()

    def one(path):
        with open(path, "rb") as f:
            data_in = f.read()
        try:
            result = anon.anonymize(data_in)
        except blindfold.Error:
            return None
        target = os.path.join(out, os.path.relpath(path, data))
        os.makedirs(os.path.dirname(target), exist_ok=True)
        with open(target + ".tmp", "wb") as f:
            f.write(result.data)
        os.replace(target + ".tmp", target)
        return len(result.report["faces"])

    with ThreadPoolExecutor(max_workers=jobs) as pool:
        faces = list(pool.map(one, files))
    end = time.perf_counter()
    print(json.dumps({
        "photos": len(files),
        "failed": sum(f is None for f in faces),
        "faces": sum(f for f in faces if f is not None),
        "backend": anon.backend,
        "jobs": jobs,
        "load_s": round(loaded - start, 2),
        "total_s": round(end - start, 2),
        "photos_per_s": round(len(files) / (end - start), 3),
    }))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]))
