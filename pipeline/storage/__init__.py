"""Object storage: the ``ObjectStore`` interface and its local and in-memory implementations.

The S3 implementation lives at the edge (``pony/s3.py``) because the core imports no S3 client.
"""

from pipeline.storage.base import ObjectStore, job_prefix, original_key, output_key

__all__ = ["ObjectStore", "job_prefix", "original_key", "output_key"]
