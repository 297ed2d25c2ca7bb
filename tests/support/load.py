"""The load generator the fault tests use is the drill's own, stackctl.load: one implementation that
counts every attempt, replay and retry (see its docstring)."""

from stackctl.load import Call, ClientRequest, FreshPairs, Load, LoadResult, mixed, repeat

__all__ = ["Call", "ClientRequest", "FreshPairs", "Load", "LoadResult", "mixed", "repeat"]
