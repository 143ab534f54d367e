"""The demo contact center: a Spanish retail bank with customers, agents, queues, reasons and history."""
