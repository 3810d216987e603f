"""Fault injection against real redis-server processes: kills, stalls, cut connections."""
