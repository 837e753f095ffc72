"""The live consultation desk of the library reference alliance."""

__version__ = "0.1.0"
