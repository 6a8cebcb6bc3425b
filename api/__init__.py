"""The HTTP edge: a FastAPI app over the job store, object storage and dispatch."""
