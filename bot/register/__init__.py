"""The company's AI register (EU AI Act inventory): every AI application with its purpose, owner, model
and provider, data, personal data, risk class, status and next review — kept by admins in chat and with
`lotse register`, Lotse's own entry included. Every change is written to the audit log."""
