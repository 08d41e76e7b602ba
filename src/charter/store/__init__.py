"""
The gate and its storage: schema, engines, regions, protection, audit and jobs.
"""
