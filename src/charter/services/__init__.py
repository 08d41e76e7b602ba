"""
The ecosystem's services on the gate: one package each, owning its tables (registered with
:mod:`charter.store.registry`) and built by the composition root with what it needs handed in.

- :mod:`charter.services.account`: accounts, sign-in, sessions, 2-step verification;
- :mod:`charter.services.oauth`: the OAuth 2.0 / OpenID Connect provider;
- :mod:`charter.services.credentials`: service API keys and interim user tokens;
- :mod:`charter.services.staff`: staff roles of the Privacy Center.
"""
