"""Open311 GeoReport v2 (read and write) over the ticket system: services are the report categories,
service requests are tickets."""
