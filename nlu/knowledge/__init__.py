"""The procedure knowledge base: common administrative procedures as data, found by text similarity."""

from nlu.knowledge.procedures import Procedure, load_procedures
from nlu.knowledge.search import Match, ProcedureIndex, default_index

__all__ = ["Match", "Procedure", "ProcedureIndex", "default_index", "load_procedures"]
