"""The audit log in chat (`/audit`) and on the command line: who changed plans, roles, pilots and the
register, and who exported or erased data. The log itself is `bot.storage.audit` (every feature writes it)."""
