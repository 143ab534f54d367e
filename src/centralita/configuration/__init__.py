"""Configuration as code: queues, skills, reasons, hours, agents, flow functions and entry points in one
YAML file.

`loader` reads YAML keeping the line and column of every key and value; `document` validates a file
against the existing Create schemas and cross-checks its references; `state` reads the tenant's current
configuration in the same shape; `plan` compares the two and applies the difference through the `do_*`
actions in one transaction; `export` writes the current configuration back as YAML.
"""
