"""The pure core of Pony Express: job model, step graph, presets, media operations.

Nothing here imports a broker, a web framework, an S3 client, an HTTP client or SMTP
(tests/unit/test_layering.py keeps it that way).
"""
