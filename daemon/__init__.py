"""complaintsd: a complaints register (registre des réclamations) run over plain email."""

__version__ = "0.1.0"
