"""The top of the house (issue 21): the only package that imports every feature. `services` builds the
parts once, `routes` is the routing table, `lotse` the turn, `server` the HTTP server, `cli` the command."""
