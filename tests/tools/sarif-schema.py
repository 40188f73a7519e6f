#!/usr/bin/env python3
"""Prints the path of the official SARIF 2.1.0 JSON schema, fetching it once.

The schema ships inside the `serde-sarif` crate on crates.io (src/schema.json,
the OASIS file). It is downloaded from the registry into DIR (argv[1]) and
reused from there. Only the standard library is used, so a fresh machine
needs nothing more.
"""
import io
import os
import sys
import tarfile
import urllib.request

CRATE = "https://static.crates.io/crates/serde-sarif/serde-sarif-0.8.0.crate"
MEMBER = "serde-sarif-0.8.0/src/schema.json"


def main():
    out_dir = sys.argv[1]
    path = os.path.join(out_dir, "sarif-schema-2.1.0.json")
    if not os.path.exists(path):
        os.makedirs(out_dir, exist_ok=True)
        with urllib.request.urlopen(CRATE, timeout=60) as r:
            data = r.read()
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as t:
            schema = t.extractfile(MEMBER).read()
        tmp = path + ".tmp"
        with open(tmp, "wb") as f:
            f.write(schema)
        os.replace(tmp, path)
    print(path)


if __name__ == "__main__":
    main()
