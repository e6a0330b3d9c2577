"""Installing documents on a worker's deck does not load the web stack, boto3, the parsers or
multiprocessing: each is imported where it is used (DESIGN.md: worker weight)."""

from __future__ import annotations

import json
import subprocess
import sys

HEAVY = (
    "fastapi",
    "pydantic",
    "jinja2",
    "boto3",
    "botocore",
    "pypdf",
    "docx",
    "lxml",
    "multiprocessing",
)


def test_installing_documents_imports_nothing_heavy() -> None:
    code = (
        "import json, sys\n"
        "from jobdeck import JobDeck\n"
        "from jobdeck.contrib.documents import install_documents, storage_from_url\n"
        "install_documents(JobDeck('sqlite:///unused.db'), storage_from_url('s3://b/p'))\n"
        f"print(json.dumps(sorted(m for m in {HEAVY!r} if m in sys.modules)))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert json.loads(done.stdout) == []
