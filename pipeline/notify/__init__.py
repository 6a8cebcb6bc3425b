"""Telling users a job ended: delivery records, retry schedule, webhook signing and SSRF rules,
email composition. Sending over the network happens at the edge (``workers/``) through the
``Sender`` interface in ``pipeline.notify.deliver``."""
