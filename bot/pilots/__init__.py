"""Pilot projects: their KPIs and costs, the feedback of pilot users, and the reports the IT lead
takes to management (figures, ROI, charts, exports)."""
