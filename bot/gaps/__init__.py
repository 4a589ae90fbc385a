"""Knowledge gaps (issue 25): what people ask that Lotse cannot answer reaches someone who can, and the
answer comes back — the gap log, the company FAQ, the knowledge owners' digest."""
