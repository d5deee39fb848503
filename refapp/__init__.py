"""The reference app of the NBA contract (CONTRACT.md sections 1 to 8); see refapp/README.md."""

__version__ = "0.1.0"
