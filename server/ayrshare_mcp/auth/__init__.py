"""Who may call a server hosted for a team: OAuth access tokens from the operator's own authorization server, the
tenants file that maps each person to the Ayrshare account and profiles they act for, and the scopes tools need.

This server is an OAuth 2.1 resource server only; it never issues tokens.
"""
