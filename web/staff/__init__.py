"""The staff portal: login, the agency and hotline-centre queues, the ticket page, the operator's live
page and the dashboards. Every page asks :class:`ticketing.staff.StaffService` with the acting user."""
