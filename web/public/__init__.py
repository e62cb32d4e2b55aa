"""The public pages (no login): the web form, tracking with the reporter's follow-up, and the
published results."""
