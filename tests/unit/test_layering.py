"""The pure core imports no broker, web framework, S3 client, HTTP client or SMTP."""

import ast
from pathlib import Path

PIPELINE = Path(__file__).resolve().parents[2] / "pipeline"
FORBIDDEN = {
    "dramatiq", "pika", "fastapi", "starlette", "uvicorn", "minio", "urllib3", "httpx",
    "requests", "smtplib", "aiosmtpd", "api", "workers", "pony",
}  # fmt: skip


def imported_roots(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    roots = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            roots |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            roots.add(node.module.split(".")[0])
    return roots


def test_the_pipeline_core_imports_no_edge_library():
    offenders = {
        str(path.relative_to(PIPELINE)): sorted(imported_roots(path) & FORBIDDEN)
        for path in PIPELINE.rglob("*.py")
    }
    assert {k: v for k, v in offenders.items() if v} == {}


def test_the_layering_check_would_catch_an_offender(tmp_path):
    module = tmp_path / "bad.py"
    module.write_text("import dramatiq\nfrom minio import Minio\n")
    assert imported_roots(module) & FORBIDDEN == {"dramatiq", "minio"}
