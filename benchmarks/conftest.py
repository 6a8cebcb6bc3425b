"""The integration fixtures, for benchmarks run as ``pytest benchmarks -s``.

``pytest_plugins`` may only be declared in the root conftest, so the fixtures are imported here:
pytest registers every fixture found in a conftest's namespace.
"""

from tests.integration.conftest import api, cluster, tenant
from tests.services import amqp_url, postgres_url, s3_url, smtp_server

__all__ = ["amqp_url", "api", "cluster", "postgres_url", "s3_url", "smtp_server", "tenant"]
