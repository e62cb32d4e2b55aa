"""Reports of HN Art. 11, 12.7 and SPEC §3: periods, SQL aggregation, pure arithmetic, and HTML (with
charts), XLSX and CSV renderers."""
