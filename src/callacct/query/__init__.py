"""The query layer: every read of calls goes through here."""
