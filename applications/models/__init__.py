from .applications import (
    APPROVAL_VALID_DAYS,
    Application,
    ApplicationEvent,
    ApplicationStatus,
    ApplicationStatusCount,
    Channel,
    Collateral,
    CreditAssessment,
    DisclosureAcknowledgement,
    Party,
    RejectionReason,
    Review,
    TransitionError,
)
from .borrowers import BlockListEntry, Borrower, BorrowerKind, IdentityType, identity_lookup_hash
from .materials import MAX_UPLOAD_BYTES, Material
from .portal import PortalInvitation, PortalResetCode
from .products import MaterialRequirement, Product, RiskDisclosure

__all__ = [
    "APPROVAL_VALID_DAYS",
    "MAX_UPLOAD_BYTES",
    "Application",
    "ApplicationEvent",
    "ApplicationStatus",
    "ApplicationStatusCount",
    "BlockListEntry",
    "Borrower",
    "BorrowerKind",
    "Channel",
    "Collateral",
    "CreditAssessment",
    "DisclosureAcknowledgement",
    "IdentityType",
    "Material",
    "MaterialRequirement",
    "Party",
    "PortalInvitation",
    "PortalResetCode",
    "Product",
    "RejectionReason",
    "Review",
    "RiskDisclosure",
    "TransitionError",
    "identity_lookup_hash",
]
