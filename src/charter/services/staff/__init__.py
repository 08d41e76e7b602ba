"""
Staff roles of the Privacy Center: which accounts may open the staff pages, and the handle
under which they act (request histories and the audit log show the handle, never an id).
"""

from charter.services.staff.roles import ROLES, StaffMember, StaffRoles

__all__ = ["ROLES", "StaffMember", "StaffRoles"]
