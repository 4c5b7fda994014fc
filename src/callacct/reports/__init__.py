"""Reports: declarative specs compiled to parameterised SQL, run within a scope, rendered.

`result.ReportResult` is the contract between running a report and rendering it: the runner
fills one (translated labels, typed columns, rows, totals, filter summary, optional chart) and
each renderer (xlsx, pdf, html, csv, json) turns it into a file without querying anything.
"""
