"""Agents: skills with levels, routing profiles (queues), channel capacities and states."""
