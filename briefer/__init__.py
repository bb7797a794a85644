"""briefer: news articles in, a sourced daily briefing out."""

from briefer.errors import BrieferError, ConfigError, InputError, LLMError
from briefer.models import Briefing, Document, EventRecord, Source, StanceRecord

__version__ = "0.1.0"

__all__ = [
    "BrieferError",
    "Briefing",
    "ConfigError",
    "Document",
    "EventRecord",
    "InputError",
    "LLMError",
    "Source",
    "StanceRecord",
    "__version__",
]
