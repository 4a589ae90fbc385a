"""Microsoft Teams channel (botbuilder 4.17.1): the only package that imports botbuilder."""
