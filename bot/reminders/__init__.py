"""The 90-day plan: its weeks and tasks, the nudges on schedule (once, in the right time zone, across
restarts), and `/plan`."""
