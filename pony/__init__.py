"""The composition root: the ``pony`` command and the one place that wires settings to parts."""
