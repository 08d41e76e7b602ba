"""
The journal: the tamper-evident audit log of every database (hash chain, RFC 6962 tree heads,
witness files). Every audit entry is written through it, in the transaction of the change.
"""
