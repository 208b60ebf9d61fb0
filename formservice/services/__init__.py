"""Use cases: each changes state in one transaction, with its audit events and outbox rows."""
