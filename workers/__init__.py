"""The worker edge: Dramatiq broker, the step actors, and the worker pool."""
