"""The web view: read-only pages over the register, behind a login (`complaintsd web`, README "The web view").

A page is a query of `edges/register/views.py` plus a template; no page writes a row. Who sees what is
decided in one place (`access.Viewer`), which every query and download goes through.
"""
