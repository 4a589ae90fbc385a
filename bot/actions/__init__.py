"""Requests in plain words become actions (issue 22): the catalog (`config/actions.yaml`), offline
understanding with the loaded embedder, slot values, and the route that runs, confirms or offers them."""
