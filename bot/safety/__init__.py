"""Privacy and safety around the LLM: personal data masked before text leaves for an endpoint that is
not local, prompt-injection checks, limits."""
